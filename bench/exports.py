"""Exports: the district admin's large CSV downloads against a bare COPY of the same query.

Each export is asked for through the test client as the district admin of the seeded
district (production settings), and read to the end: the figures are the time to the first
byte (the header, written before the database is asked), to the first data rows, and to the
last byte, the median of ``RUNS`` after one warm-up. The floor is the same statement
without the neutralisation (``copy_statement(..., neutralised=False)``), run by the same
streaming code on the same connection, so the ratio is what the export adds to what the
database must do anyway: neutralising cells in SQL, the HTTP response, the thread and queue
that stream it. For the record, the rows are also written once through the Python path
(``csv_response``, SQLite's), which is what the export did before.

Goal (issue 17): the whole-district device export within 2× the bare COPY, first data rows
within a second.
"""

from __future__ import annotations

import statistics
import time

from .report import table, verdict

RUNS = 3
GOAL_RATIO = 2.0
GOAL_FIRST_ROWS_MS = 1000


def _admin():
    from django.contrib.auth import get_user_model

    from schools.scoping import outside_scope

    with outside_scope():
        return get_user_model().objects.get(email="admin@scale.test")


def _request(user, query: dict):
    from django.test import RequestFactory

    from schools.scoping import access_for

    request = RequestFactory().get("/", query)
    request.user, request.access = user, access_for(user)
    return request


def _devices(request):
    """The device export's columns and queryset, built as the inventory view builds them."""
    from equity.inventory import selectors
    from equity.inventory.filters import DeviceFilter
    from equity.inventory.views import _inventory_devices

    devices = DeviceFilter(
        request.GET, queryset=_inventory_devices(request.access), request=request
    )
    assert devices.is_valid(), devices.errors
    return selectors.inventory_export(devices.qs)


def _pd_hours(request):
    """The PD hours export's columns and queryset, as the reports view builds them."""
    from pd import selectors
    from pd.views import _pd_schools, _pd_sessions

    scope = selectors.report_scope(
        schools=_pd_schools(request.access), sessions=_pd_sessions(request.access)
    )
    _filename, columns, rows = selectors.hours_export(scope)
    return columns, rows


EXPORTS = [
    # (label, url name, query, columns and queryset of the same statement)
    ("device inventory, whole district", "equity:inventory", {"format": "csv"}, _devices),
    ("PD hours per staff member, whole district", "pd:reports", {"export": "hours"}, _pd_hours),
]


def _download(client, url: str, query: dict) -> dict:
    started = time.perf_counter()
    response = client.get(url, query)
    if response.status_code != 200:
        raise SystemExit(f"{url} {query} answered {response.status_code}")
    chunks = iter(response.streaming_content)
    size = len(next(chunks))
    first_byte = time.perf_counter() - started
    first_rows = None
    lines = 0
    for chunk in chunks:
        if first_rows is None:
            first_rows = time.perf_counter() - started
        size += len(chunk)
        lines += chunk.count(b"\n")
    total = time.perf_counter() - started
    return {
        "first_byte_ms": first_byte * 1000,
        "first_rows_ms": (first_rows or total) * 1000,
        "seconds": total,
        "bytes": size,
        "lines": lines,
    }


def _copy_seconds(statement: str) -> float:
    from schools.exports import copy_chunks

    started = time.perf_counter()
    for _chunk in copy_chunks(statement):
        pass
    return time.perf_counter() - started


def _python_seconds(columns, queryset) -> float:
    from schools.exports import column_values, csv_response

    started = time.perf_counter()
    rows = column_values(queryset, columns).iterator(chunk_size=2000)
    response = csv_response("python.csv", [c.header for c in columns], rows)
    for _chunk in response.streaming_content:
        pass
    return time.perf_counter() - started


def measure(size: int) -> dict:
    from django.test import Client
    from django.urls import reverse

    from schools.exports import copy_statement
    from schools.scoping import activate

    user = _admin()
    client = Client()
    client.force_login(user)
    results = []
    for label, name, query, build in EXPORTS:
        url = reverse(name)
        request = _request(user, query)
        with activate(request.access):
            columns, queryset = build(request)
            bare = copy_statement(queryset, columns, neutralised=False)
            neutralised = copy_statement(queryset, columns)
        _download(client, url, query)  # warm-up: caches, the file system, the plan
        runs = [_download(client, url, query) for _ in range(RUNS)]
        floors = [_copy_seconds(bare) for _ in range(RUNS)]
        copies = [_copy_seconds(neutralised) for _ in range(RUNS)]
        with activate(request.access):
            python = _python_seconds(columns, queryset)
        results.append(
            {
                "export": label,
                "rows": runs[0]["lines"],
                "bytes": runs[0]["bytes"],
                "first_byte_ms": statistics.median(r["first_byte_ms"] for r in runs),
                "first_rows_ms": statistics.median(r["first_rows_ms"] for r in runs),
                "seconds": statistics.median(r["seconds"] for r in runs),
                "bare_copy_seconds": statistics.median(floors),
                "neutralised_copy_seconds": statistics.median(copies),
                "python_seconds": python,
            }
        )
    return {"exports": results}


def render(results: dict[int, dict]) -> str:
    rows = []
    largest = max(results)
    for size, r in sorted(results.items()):
        for e in r["exports"]:
            ratio = e["seconds"] / e["bare_copy_seconds"] if e["bare_copy_seconds"] else None
            ok = (
                ratio is not None
                and ratio <= GOAL_RATIO
                and e["first_rows_ms"] <= GOAL_FIRST_ROWS_MS
            )
            rows.append(
                [
                    size,
                    e["export"],
                    e["rows"],
                    f"{e['bytes'] / 2**20:.1f} MiB",
                    round(e["first_byte_ms"]),
                    round(e["first_rows_ms"]),
                    round(e["seconds"], 2),
                    round(e["bare_copy_seconds"], 2),
                    round(e["neutralised_copy_seconds"], 2),
                    f"{ratio:.2f}×" if ratio is not None else None,
                    round(e["python_seconds"], 2),
                    verdict(ok) if size == largest else "–",
                ]
            )
    header = [
        "students",
        "export",
        "rows",
        "size",
        "first byte (ms)",
        "first rows (ms)",
        "export (s)",
        "bare COPY (s)",
        "COPY, neutralised (s)",
        "export ÷ bare COPY",
        "Python path (s)",
        "goal",
    ]
    return "\n".join(
        [
            "## Exports",
            "",
            "The district admin's CSV downloads, read to the end through the test client (median",
            f"of {RUNS} after a warm-up), against the bare `COPY` of the same query run by the",
            "same streaming code; the Python path is SQLite's (every cell through `csv_response`),",
            "measured once. Goal: within 2× the bare COPY, first rows within a second.",
            "",
            table(header, rows),
        ]
    )


if __name__ == "__main__":
    from ._django import section_main

    section_main(measure)
