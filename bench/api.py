"""API: the device list of /api/v1/ at the district's size, first page and a deep cursor page.

In-process (the Django test client with a bearer token of the seeded district admin,
production settings): the first page of ``/api/v1/devices/``, a page deep in the list
(its cursor points at the middle asset tag, as a client walking the whole list reaches
it), and a filtered page (``status=lost``), each ``REQUESTS`` times after a warm-up. Every
query of a page is checked for OFFSET and COUNT(*) (a cursor page has neither) and its
plan for a sequential scan of the devices.

Goal (issue 22): the deep page within 1.5× the first, the same number of queries at every
size, no OFFSET, no COUNT(*).
"""

from __future__ import annotations

import base64
import re
import statistics
import time
from urllib.parse import urlencode

from .report import percentiles, table, verdict

REQUESTS = 30
WARM_UP = 3
GOAL = 1.5
ADMIN = "admin@scale.test"


def _deep_cursor() -> tuple[str, int]:
    """A cursor at the district's middle asset tag (as DRF's CursorPagination writes one)."""
    from equity.inventory.models import Device

    total = Device.unscoped.count()
    middle = (
        Device.unscoped.order_by("asset_tag").values_list("asset_tag", flat=True)[total // 2]
        if total
        else ""
    )
    cursor = base64.b64encode(urlencode({"p": middle}).encode()).decode()
    return cursor, total


def _explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def measure(size: int) -> dict:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from api.services import token_create

    user = User.objects.get(email=ADMIN)
    _row, token = token_create(user=user, name="bench", read_only=True, days=1)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    cursor, devices = _deep_cursor()
    pages = [
        ("first page", {}),
        ("deep cursor page", {"cursor": cursor}),
        ("status=lost", {"status": "lost"}),
    ]
    results = []
    for page, query in pages:
        url = "/api/v1/devices/"
        response = client.get(url, query)
        if response.status_code != 200:
            raise SystemExit(f"{page} answered {response.status_code}: {response.content[:300]}")
        for _ in range(WARM_UP):
            client.get(url, query)
        samples = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            client.get(url, query)
            samples.append((time.perf_counter() - started) * 1000)
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, query)
        sql = [q["sql"] for q in ctx.captured_queries]
        joined = " ".join(sql).upper()
        plans = [_explain(s) for s in sql if "equity_device" in s and s.startswith("SELECT")]
        p50, p95 = percentiles(samples)
        results.append(
            {
                "page": page,
                "p50_ms": p50,
                "p95_ms": p95,
                "mean_ms": statistics.fmean(samples),
                "queries": len(sql),
                "rows": len(response.json()["results"]),
                "offset": bool(re.search(r"\bOFFSET\b", joined)),
                "count": "COUNT(" in joined,
                "seq_scan_devices": any("Seq Scan on equity_device" in p for p in plans),
            }
        )
        print(f"   {page}: p50 {p50:.1f} ms, {len(sql)} queries", flush=True)
    return {"size": size, "devices": devices, "pages": results}


def render(results: dict[int, dict]) -> str:
    sizes = sorted(results)
    large = sizes[-1]
    lines = [
        "## API",
        "",
        "`GET /api/v1/devices/` as the district admin with a bearer token, in-process, "
        f"{REQUESTS} requests after a warm-up. Goal: the deep cursor page within {GOAL}× the "
        "first page, the same number of queries at every size, no OFFSET and no COUNT(*).",
        "",
    ]
    rows = []
    for size in sizes:
        by_page = {r["page"]: r for r in results[size]["pages"]}
        first = by_page["first page"]
        for r in results[size]["pages"]:
            ratio = r["p50_ms"] / first["p50_ms"] if first["p50_ms"] else None
            ok = (
                not r["offset"]
                and not r["count"]
                and not r["seq_scan_devices"]
                and r["queries"] == results[sizes[0]]["pages"][0]["queries"]
                and (ratio is None or ratio <= GOAL or r["page"] == "status=lost")
            )
            rows.append(
                [
                    f"{size:,}",
                    f"{results[size]['devices']:,}",
                    r["page"],
                    r["p50_ms"],
                    r["p95_ms"],
                    r["queries"],
                    "yes" if r["offset"] or r["count"] else "no",
                    "yes" if r["seq_scan_devices"] else "no",
                    f"{ratio:.2f}×" if ratio is not None else None,
                    verdict(ok) if size == large else "",
                ]
            )
    lines += [
        table(
            [
                "students",
                "devices",
                "page",
                "p50 ms",
                "p95 ms",
                "queries",
                "OFFSET or COUNT",
                "seq scan of devices",
                "p50 / first page",
                "goal",
            ],
            rows,
        ),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    from ._django import section_main

    section_main(measure)
