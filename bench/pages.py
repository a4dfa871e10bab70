"""Pages: server time and query count of the pages people use most, small district vs large.

In-process (the Django test client, production settings, DEBUG off): each page is asked
for by the seeded login that uses it (principal, coach or tech staff of S0001, or the
district admin), once cold (the first figure: what the first visitor after a change
waits), then after a warm-up ``REQUESTS`` times; the median and 95th percentile of those
are the page's figures, and one more request under ``CaptureQueriesContext`` gives its
queries. At every size the hot queries (those reading a large table) are explained
(``EXPLAIN``, estimated plans, nothing run), and ``render`` shows the plans of the largest
size, flagging any sequential scan of a large table.

Goal (issue 8): at 1,000,000 students each page within 1.5× its time at 1,000, with the same
number of queries.
"""

from __future__ import annotations

import re
import statistics
import time

from .report import percentiles, table, verdict

REQUESTS = 30
WARM_UP = 3
GOAL = 1.5
# The tables that grow with the district (a sequential scan of one is flagged).
LARGE_TABLES = (
    "equity_student",
    "equity_device",
    "equity_deviceevent",
    "equity_assignment",
    "pd_attendance",
    "stakeholders_answer",
    "stakeholders_response",
    "schools_staffmember",
)
PASSWORD_FREE_LOGINS = {
    "principal": "principal.s0001@scale.test",
    "coach": "coach.s0001@scale.test",
    "tech": "tech.s0001@scale.test",
    "admin": "admin@scale.test",
}


def _targets():
    """The seeded objects the pages are asked about (scopes off: this is the bench's own read)."""
    from django.db.models import Count

    from equity.inventory.models import Device, DeviceModel
    from initiatives.models import Initiative
    from schools.models import School
    from schools.scoping import outside_scope
    from stakeholders.models import Survey

    with outside_scope():
        school = School.objects.get(code="S0001", district__name="Scale District")
        district = school.district
        device = (
            Device.objects.filter(school=school, status="assigned").order_by("pk").first()
            or Device.objects.filter(school=school).order_by("pk").first()
        )
        # A common model of the school (a realistic filter), and a fragment of its name.
        model_id = (
            Device.objects.filter(school=school)
            .values("model_id")
            .annotate(n=Count("pk"))
            .order_by("-n", "model_id")
            .values_list("model_id", flat=True)
            .first()
        )
        model = DeviceModel.objects.get(pk=model_id)
        words = [w for w in re.split(r"\W+", model.name) if len(w) >= 4] or [model.name]
        fragment = words[0][1:5].lower()
        survey = (
            Survey.objects.filter(schools=school)
            .annotate(n=Count("responses"))
            .order_by("-n", "pk")
            .first()
        )
        initiative = (
            Initiative.objects.filter(schools=school).order_by("-involves_devices", "pk").first()
        )
    return {
        "school": school.pk,
        "district": district.pk,
        "device": device.pk,
        # A real tag's start that keeps a few dozen matches: all but its last two characters.
        "tag_prefix": device.asset_tag[:-2],
        "model": model.pk,
        "fragment": fragment,
        "survey": survey.pk if survey else None,
        "initiative": initiative.pk if initiative else None,
    }


def _pages(t: dict) -> list[tuple[str, str, str, str, dict]]:
    """(page, who, url name, args, query) of every measured request."""
    inventory = []
    for who in ("principal", "admin"):
        inventory += [
            ("inventory", who, "equity:inventory", (), {}),
            (
                "inventory filtered (status + model)",
                who,
                "equity:inventory",
                (),
                {"status": "assigned", "model": t["model"]},
            ),
            (
                "inventory searched (tag prefix)",
                who,
                "equity:inventory",
                (),
                {"q": t["tag_prefix"]},
            ),
            (
                "inventory searched (name fragment)",
                who,
                "equity:inventory",
                (),
                {"q": t["fragment"]},
            ),
        ]
    pages = [
        *inventory,
        ("device page", "tech", "equity:device_detail", (t["device"],), {}),
        ("coverage plan (school)", "tech", "equity:coverage", (t["school"],), {}),
        ("coverage plan (district)", "admin", "equity:district_coverage", (t["district"],), {}),
        ("PD hours report", "coach", "pd:reports", (), {}),
        ("principal dashboard", "principal", "readiness:school", (t["school"],), {}),
        ("district dashboard", "admin", "readiness:district", (t["district"],), {}),
        ("home", "admin", "today:home", (), {}),
        ("school list", "admin", "schools:school_list", (), {}),
    ]
    if t["survey"]:
        pages.append(
            ("survey results", "principal", "stakeholders:survey_results", (t["survey"],), {})
        )
    if t["initiative"]:
        pages.append(("initiative page", "principal", "initiatives:detail", (t["initiative"],), {}))
    return pages


def _explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def _seq_scans(plan: str) -> list[str]:
    return sorted(
        {m.group(1) for m in re.finditer(r"Seq Scan on (\w+)", plan) if m.group(1) in LARGE_TABLES}
    )


def _hot(sql: str) -> bool:
    return sql.lstrip().upper().startswith("SELECT") and any(
        f'"{name}"' in sql for name in LARGE_TABLES
    )


def measure(size: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from schools.scoping import outside_scope

    targets = _targets()
    with outside_scope():
        users = {
            who: get_user_model().objects.get(email=email)
            for who, email in PASSWORD_FREE_LOGINS.items()
        }
    clients = {}
    for who, user in users.items():
        clients[who] = Client()
        clients[who].force_login(user)

    results, plans = [], []
    for page, who, name, args, query in _pages(targets):
        client = clients[who]
        url = reverse(name, args=args)
        # The first request's queries are also those a cache hides later: explained below.
        reset_queries()
        with CaptureQueriesContext(connection) as cold:
            started = time.perf_counter()
            response = client.get(url, query)
            first_ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{page} ({who}) answered {response.status_code}: {url} {query}")
        for _ in range(WARM_UP):
            client.get(url, query)
        samples = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            client.get(url, query)
            samples.append((time.perf_counter() - started) * 1000)
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            client.get(url, query)
        p50, p95 = percentiles(samples)
        results.append(
            {
                "page": page,
                "who": who,
                "url": url
                + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""),
                "first_ms": first_ms,
                "p50_ms": p50,
                "p95_ms": p95,
                "mean_ms": statistics.fmean(samples),
                "queries": len(ctx.captured_queries),
                "bytes": len(response.content),
            }
        )
        print(
            f"   {page} ({who}): p50 {p50:.1f} ms, {len(ctx.captured_queries)} queries", flush=True
        )
        seen = set()
        for q in cold.captured_queries:
            sql = q["sql"]
            if not _hot(sql) or sql in seen:
                continue
            seen.add(sql)
            plan = _explain(sql)
            plans.append(
                {
                    "page": page,
                    "who": who,
                    "sql": sql,
                    "plan": plan,
                    "seq_scans": _seq_scans(plan),
                    "cold_only": not any(c["sql"] == sql for c in ctx.captured_queries),
                }
            )
    return {"size": size, "targets": targets, "pages": results, "plans": plans}


def render(results: dict[int, dict]) -> str:
    sizes = sorted(results)
    small, large = sizes[0], sizes[-1]
    lines = [
        "## Pages",
        "",
        f"Server time in-process (Django test client, production settings) of each page, "
        f"{REQUESTS} requests after a warm-up; *first* is the first request (cold caches). "
        f"Goal: at {large:,} students within {GOAL}× the time at {small:,}, with the same "
        "number of queries.",
        "",
    ]
    by_key = {s: {(r["page"], r["who"]): r for r in results[s]["pages"]} for s in sizes}
    rows = []
    for key, a in by_key[small].items():
        b = by_key[large].get(key)
        if b is None:
            continue
        ratio = b["p50_ms"] / a["p50_ms"] if a["p50_ms"] else None
        same = a["queries"] == b["queries"]
        ok = ratio is not None and ratio <= GOAL and same
        rows.append(
            [
                key[0],
                key[1],
                a["p50_ms"],
                a["p95_ms"],
                a["queries"],
                b["first_ms"],
                b["p50_ms"],
                b["p95_ms"],
                b["queries"],
                f"{ratio:.2f}×" if ratio is not None else None,
                verdict(ok),
            ]
        )
    lines += [
        table(
            [
                "page",
                "as",
                f"p50 ms ({small:,})",
                f"p95 ms ({small:,})",
                f"queries ({small:,})",
                f"first ms ({large:,})",
                f"p50 ms ({large:,})",
                f"p95 ms ({large:,})",
                f"queries ({large:,})",
                "p50 large/small",
                "goal",
            ],
            rows,
        ),
        "",
    ]
    plans = results[large].get("plans", [])
    flagged = [p for p in plans if p["seq_scans"]]
    lines += [
        f"### Query plans at {large:,} students",
        "",
        f"{len(plans)} distinct queries reading a large table were explained; "
        + (
            f"{len(flagged)} use a sequential scan of a large table: "
            + ", ".join(
                sorted({f"{p['page']} ({p['who']}): {', '.join(p['seq_scans'])}" for p in flagged})
            )
            + "."
            if flagged
            else "none uses a sequential scan of a large table."
        ),
        "",
    ]
    for p in plans:
        flag = " — **Seq Scan on " + ", ".join(p["seq_scans"]) + "**" if p["seq_scans"] else ""
        cold = " (cold request only: cached afterwards)" if p.get("cold_only") else ""
        lines += [
            f"<details><summary>{p['page']} ({p['who']}){cold}{flag}</summary>",
            "",
            "```sql",
            p["sql"][:2000] + (" …" if len(p["sql"]) > 2000 else ""),
            "```",
            "",
            "```",
            p["plan"],
            "```",
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    from ._django import section_main

    section_main(measure)
