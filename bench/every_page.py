"""Every page, every role: each URL of the site that a seeded person may open, small vs large.

The URL conf itself is the list (the same names the scoping matrix classifies in
tests/scoping_cases.py): every named URL outside the Django admin is asked for with GET by
each seeded login (principal, coach and tech staff of S0001, and the district admin), with
its keyword arguments taken from a seeded object of S0001 (``FINDERS``); the CSV exports are
added with their query strings (``EXPORTS``). A URL that answers something other than 200
for a login (403 for a role, 405 for a POST-only action, a redirect) is not that login's
page and is left out; a URL with arguments that ``URL_OBJECTS`` does not name is listed as
not measured, so a new URL cannot slip past the benchmark unnoticed
(tests/test_every_page_catalogue.py checks that every GET URL of the matrix has its finder).
The REST API's endpoints (bearer tokens, cursor pages) are bench/api.py's.

Each page: one cold request, one warm-up, then ``REQUESTS`` timed requests (fewer for a
page over a second: ``SLOW_REQUESTS``), their median is the page's p50 (``make bench``
measures both sizes in one process, in ``TURNS`` turns of about ``TURN_MS`` each, and
keeps each size's quietest turn: ``measure_interleaved``, ``requests_per_turn``,
``quietest_turn``); two more requests
under ``CaptureQueriesContext`` give its queries, the fewer of the two (the session's save
once a minute is not the page's). A streamed response (CSV) is read to its
end inside the timing.

Goal (issue 17): for each row, the same number of queries at both sizes, and at the large
size a p50 within 1.5× the small size's and under 300 ms.

Why one long module: it is the list of every page (how each URL finds its seeded object,
the exports and their query strings) beside the measuring that walks it and the table it
writes. The catalogue test (tests/test_every_page_catalogue.py) holds the list to the
scoping matrix; split, a URL's finder and the requests made from it would sit in modules
that change together every time a page is added.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from dataclasses import dataclass

from .report import percentiles, table, verdict

REQUESTS = 7
SLOW_REQUESTS = 3  # for a page whose first request took over SLOW_MS
SLOW_MS = 1000
# The interleaved run takes TURNS turns a page, each timing the page for about TURN_MS
# per size (at most MAX_PER_TURN requests), and keeps a size's quietest turn, the lowest of
# its turns' medians. The median of all of 8 or 50 requests of a 10-50 ms page moved by
# 20-50 % between runs of the same code, enough to carry rows across the 1.5x goal either
# way (321, 322 and 316 of 327 rows met in three runs, different rows each time): this
# machine is a shared virtual one, and a slow stretch of a second lands on one size's turn.
TURNS = 4
TURN_MS = 125
MAX_PER_TURN = 13
GOAL_RATIO = 1.5
GOAL_MS = 300
LOGINS = {
    "principal": "principal.s0001@scale.test",
    "coach": "coach.s0001@scale.test",
    "tech": "tech.s0001@scale.test",
    "district admin": "admin@scale.test",
}


@dataclass(frozen=True)
class Finder:
    """How to find a seeded object of the school S0001 (or its district) for a URL's pk."""

    model: str  # "app_label.Model"
    school_path: str | None = "school"  # lookup from the model to the school; None: district
    filters: tuple[tuple[str, object], ...] = ()
    order: tuple[str, ...] = ("pk",)
    attribute: str = "pk"


FINDERS: dict[str, Finder] = {
    "school": Finder("schools.School", "pk"),
    "district": Finder("schools.District", None),
    "staff": Finder("schools.StaffMember"),
    "membership": Finder("schools.Membership"),
    "device": Finder("equity.Device", filters=(("status", "assigned"),)),
    "import_job": Finder("equity.ImportJob"),
    "handout_day": Finder("equity.StationEvent", filters=(("kind", "handout"),)),
    "collection_day": Finder("equity.StationEvent", filters=(("kind", "collection"),)),
    "assignment": Finder("equity.Assignment", "device__school", (("checked_in_at", None),)),
    "signed_assignment": Finder(
        "equity.Acceptance", "assignment__device__school", attribute="assignment_id"
    ),
    "charge": Finder("equity.Charge", "device__school"),
    "pd_session": Finder("pd.PDSession", "schools", order=("-date", "pk")),
    "pd_poll": Finder("pd.PDNeedsPoll"),
    "survey": Finder("stakeholders.Survey", "schools", order=("-opens_on", "pk")),
    "survey_link": Finder("stakeholders.Invitation", "survey__schools"),
    "question": Finder("stakeholders.Question", "survey__schools"),
    "story": Finder("stakeholders.Story"),
    "partnership": Finder("stakeholders.Partnership"),
    "initiative": Finder("initiatives.Initiative", "schools"),
    "milestone": Finder("initiatives.Milestone", "initiative__schools"),
    "budget_line": Finder("initiatives.BudgetLine", "initiative__schools"),
    "compliance_item": Finder("initiatives.ComplianceItem", "initiative__schools"),
    "swot": Finder("initiatives.Swot"),
    # District-owned rows, found through the district of S0001.
    "app": Finder("software.App", "district__schools"),
    "review_step": Finder("software.ReviewStep", "district__schools"),
    "app_request": Finder("software.AppRequest", "district__schools"),
    "provider": Finder("identity.Provider", "district__schools"),
    "roster_source": Finder("rostering.RosterSource", "district__schools"),
    "roster_run": Finder("rostering.RosterRun", "district__schools"),
    "google_run": Finder("googlesync.SyncRun", "district__schools"),
}

# The object behind the ``pk`` of every URL that takes one (POST-only actions included, so
# the catalogue test can say "every URL"; they answer 405 to GET and are left out).
URL_OBJECTS: dict[str, str] = {
    "equity:school_losses": "school",
    "equity:district_losses": "district",
    "identity:settings": "district",
    "identity:provider_new": "district",
    "identity:provider_edit": "provider",
    "identity:provider_delete": "provider",
    "googlesync:connection": "district",
    "googlesync:org_units": "district",
    "googlesync:sync_now": "district",
    "googlesync:reports": "district",
    "googlesync:run": "google_run",
    "googlesync:device_action": "device",
    "rostering:district": "district",
    "rostering:source_add": "district",
    "rostering:source": "roster_source",
    "rostering:source_run": "roster_source",
    "rostering:run": "roster_run",
    "rostering:run_apply": "roster_run",
    "software:app_detail": "app",
    "software:app_edit": "app",
    "software:app_decide": "app",
    "software:app_create": "district",
    "software:app_import": "district",
    "software:app_export": "district",
    "software:step_list": "district",
    "software:step_edit": "review_step",
    "software:request_detail": "app_request",
    "software:request_withdraw": "app_request",
    "accounts:members": "district",
    "accounts:invite": "district",
    "accounts:user_deactivate": "membership",
    "accounts:user_reactivate": "membership",
    "accounts:membership_remove": "membership",
    "accounts:membership_resend": "membership",
    "schools:school_detail": "school",
    "schools:school_edit": "school",
    "schools:staff_list": "school",
    "schools:staff_add": "school",
    "schools:staff_edit": "staff",
    "schools:district_settings": "district",
    "equity:device_detail": "device",
    "equity:device_action": "device",
    "equity:checkout": "school",
    "equity:checkin": "school",
    "equity:audit": "school",
    "equity:device_add": "school",
    "equity:coverage": "school",
    "equity:district_coverage": "district",
    "equity:device_models": "district",
    "equity:device_model_add": "district",
    "equity:import_devices": "school",
    "equity:import_students": "school",
    "equity:import_job": "import_job",
    "equity:import_job_errors": "import_job",
    "equity:station_events": "school",
    "equity:handout_station": "handout_day",
    "equity:collection_station": "collection_day",
    "equity:assignment_acceptance": "assignment",
    "equity:acceptance_signature": "signed_assignment",
    "equity:acceptance_print": "signed_assignment",
    "equity:charges": "school",
    "equity:charge_resolve": "charge",
    "equity:rollover": "district",
    "equity:year_settings": "district",
    "pd:session_detail": "pd_session",
    "pd:session_edit": "pd_session",
    "pd:attendance": "pd_session",
    "pd:checkin_qr": "pd_session",
    "pd:checkin_toggle": "pd_session",
    "pd:feedback_request": "pd_session",
    "pd:roster_partial": "school",
    "pd:leaders": "school",
    "pd:polls": "school",
    "pd:poll_results": "pd_poll",
    "stakeholders:survey_detail": "survey",
    "stakeholders:survey_edit": "survey",
    "stakeholders:survey_close": "survey",
    "stakeholders:survey_preview": "survey",
    "stakeholders:question_add": "survey",
    "stakeholders:question_edit": "question",
    "stakeholders:question_move": "question",
    "stakeholders:question_delete": "question",
    "stakeholders:survey_links": "survey",
    "stakeholders:link_qr": "survey_link",
    "stakeholders:link_handout": "survey_link",
    "stakeholders:survey_results": "survey",
    "stakeholders:survey_export": "survey",
    "stakeholders:survey_you_said": "survey",
    "stakeholders:community": "school",
    "stakeholders:story_add": "school",
    "stakeholders:story_edit": "story",
    "stakeholders:partnership_add": "school",
    "stakeholders:partnership_edit": "partnership",
    "stakeholders:plan_edit": "school",
    "stakeholders:log_add": "school",
    "initiatives:detail": "initiative",
    "initiatives:edit": "initiative",
    "initiatives:move": "initiative",
    "initiatives:summary": "initiative",
    "initiatives:budget_export": "initiative",
    "initiatives:milestone_add": "initiative",
    "initiatives:milestone_edit": "milestone",
    "initiatives:budget_add": "initiative",
    "initiatives:budget_edit": "budget_line",
    "initiatives:signoff_add": "initiative",
    "initiatives:compliance_add": "initiative",
    "initiatives:compliance_edit": "compliance_item",
    "initiatives:school": "school",
    "initiatives:swot_list": "school",
    "initiatives:swot_edit": "swot",
    "initiatives:reflections": "school",
    "readiness:school": "school",
    "readiness:school_status": "school",
    "readiness:school_recompute": "school",
    "readiness:district": "district",
    "readiness:district_recompute": "district",
    "readiness:targets": "district",
    "audit:log": "district",
    "audit:privacy": "district",
}

# CSV exports: (url name, query) asked for on top of the pages themselves.
EXPORTS: list[tuple[str, dict[str, str]]] = [
    ("equity:inventory", {"format": "csv"}),
    ("equity:district_coverage", {"format": "csv"}),
    ("equity:collection_station", {"format": "csv"}),
    ("pd:reports", {"export": "hours"}),
    ("pd:reports", {"export": "leaders"}),
    ("pd:reports", {"export": "feedback"}),
    ("pd:reports", {"export": "needs"}),
]

# Pages without an account (a survey link, a check-in) and the sign-in pages: not a role's.
NOT_A_ROLES_PAGE = ("accounts:login", "accounts:logout", "healthz")


def url_names() -> list[str]:
    """Every named URL of the URL conf outside the Django admin."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver, namespace=""):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p, ns)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{namespace}{p.name}"

    return sorted({n for n in walk(get_resolver()) if not n.startswith("admin:")})


def _needs_arguments(name: str) -> set[str]:
    from django.urls import get_resolver

    resolver = get_resolver()
    namespaces, _, short = name.rpartition(":")
    for ns in filter(None, namespaces.split(":")):
        resolver = resolver.namespace_dict[ns][1]
    params: set[str] = set()
    # The parameters of each way to write the URL: a path()'s converters and a re_path()'s
    # named groups alike (the API router's URLs are regular expressions without converters).
    for possibilities, _pattern, _defaults, _converters in resolver.reverse_dict.getlist(short):
        for _format, names in possibilities:
            params |= set(names)
    return params


def _api_endpoints() -> set[str]:
    """The REST endpoints of the router (a viewset's list, detail or action): their client
    sends a bearer token, and bench/api.py measures them at both sizes."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver, namespace=""):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p, ns)
            elif isinstance(p, URLPattern) and p.name and getattr(p.callback, "actions", None):
                yield f"{namespace}{p.name}"

    return set(walk(get_resolver()))


def find_objects() -> dict[str, int | None]:
    """The pk of one seeded object of S0001 for every finder (None: the seed made none)."""
    from django.apps import apps

    from schools.models import School
    from schools.scoping import unscoped

    school = School.unscoped.select_related("district").get(
        code="S0001", district__name="Scale District"
    )
    found: dict[str, int | None] = {}
    for key, f in FINDERS.items():
        model = apps.get_model(f.model)
        qs = unscoped(model).filter(**dict(f.filters))
        if f.school_path is None:
            qs = qs.filter(pk=school.district_id)
        elif f.school_path == "pk":
            qs = qs.filter(pk=school.pk)
        else:
            qs = qs.filter(**{f.school_path: school})
        found[key] = qs.order_by(*f.order).values_list(f.attribute, flat=True).first()
    return found


def requests_to_make(objects: dict[str, int | None]) -> tuple[list[tuple], list[dict]]:
    """(url name, url, query) of every request, and the URLs left unmeasured with why."""
    from django.urls import reverse

    wanted, skipped = [], []
    api = _api_endpoints()
    for name in url_names():
        if name in NOT_A_ROLES_PAGE or name in api:
            continue
        params = _needs_arguments(name)
        if not params:
            wanted.append((name, reverse(name), {}))
            continue
        if params != {"pk"}:
            continue  # a token of a page without an account (survey link, check-in)
        key = URL_OBJECTS.get(name)
        if key is None:
            skipped.append({"url": name, "why": "no finder in bench/every_page.py"})
        elif objects.get(key) is None:
            skipped.append({"url": name, "why": f"the seed has no {key.replace('_', ' ')}"})
        else:
            wanted.append((name, reverse(name, kwargs={"pk": objects[key]}), {}))
    for name, query in EXPORTS:
        key = URL_OBJECTS.get(name)
        if key and objects.get(key) is None:
            skipped.append({"url": name, "why": f"the seed has no {key.replace('_', ' ')}"})
            continue
        kwargs = {"pk": objects[key]} if key else None
        wanted.append((name, reverse(name, kwargs=kwargs), query))
    return wanted, skipped


def _get(client, url, query):
    """One request read to its end (a streamed CSV included); the response."""
    response = client.get(url, query)
    if getattr(response, "streaming", False):
        for _chunk in response.streaming_content:
            pass
    return response


def _label(name: str, query: dict) -> str:
    return name + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _use_database(url: str) -> None:
    """Point the default connection at another bench database, between requests: the
    interleaved run measures both sizes in one process. What a process keeps about the
    database it talked to goes with the switch (the cache, content types)."""
    import environ
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache
    from django.db import connection

    connection.close()
    target = environ.Env.db_url_config(url)
    for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
        connection.settings_dict[key] = target[key]
    cache.clear()
    ContentType.objects.clear_cache()


@dataclass
class _Side:
    """One size of an interleaved run: its database, signed-in clients, and pages."""

    size: int
    url: str
    clients: dict
    wanted: dict  # (label, name) -> (name, url, query)
    skipped: list
    objects: dict


def _side(size: int, url: str, only: list[str]) -> _Side:
    from django.contrib.auth import get_user_model
    from django.test import Client

    _use_database(url)
    objects = find_objects()
    wanted, skipped = requests_to_make(objects)
    if only:
        wanted = [w for w in wanted if w[0].startswith(tuple(only))]
    clients = {}
    for who, email in LOGINS.items():
        client = Client()
        client.force_login(get_user_model().objects.get(email=email))
        clients[who] = client
    by_key = {(_label(n, q), n): (n, page_url, q) for n, page_url, q in wanted}
    return _Side(size, url, clients, by_key, skipped, objects)


def _timed(client, url, query, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        _get(client, url, query)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure_interleaved(urls: dict[int, str]) -> dict:
    """Every page at every size, the sizes taking turns page by page (and twice per page):
    a slow minute of the machine then falls on both sizes of a page, not on one size's
    whole run, which measured minutes apart had made pages that read nothing of the
    district miss at 1.5-2x in one run and meet in the next."""
    logging.getLogger("django.request").setLevel(logging.ERROR)
    only = [p for p in os.environ.get("BENCH_ONLY", "").split(",") if p]
    sides = [_side(size, url, only) for size, url in sorted(urls.items())]
    rows: dict[int, list[dict]] = {side.size: [] for side in sides}
    keys = sorted(set().union(*(side.wanted for side in sides)), key=lambda k: (k[1], k[0]))
    for who in LOGINS:
        for key in keys:
            present = [side for side in sides if key in side.wanted]
            answered, first = [], {}
            for side in present:
                _use_database(side.url)
                name, page_url, query = side.wanted[key]
                started = time.perf_counter()
                response = _get(side.clients[who], page_url, query)
                first[side.size] = (time.perf_counter() - started) * 1000
                if response.status_code == 200:
                    answered.append((side, response))
            turns: dict[int, list[list[float]]] = {side.size: [] for side, _r in answered}
            per_turn = requests_per_turn([first[side.size] for side, _r in answered])
            for _turn in range(TURNS):
                for side, _response in answered:
                    _use_database(side.url)
                    name, page_url, query = side.wanted[key]
                    _get(side.clients[who], page_url, query)  # warm-up after the switch
                    turns[side.size].append(_timed(side.clients[who], page_url, query, per_turn))
            for side, response in answered:
                _use_database(side.url)
                name, page_url, query = side.wanted[key]
                queries = _fewest_queries(_get, side.clients[who], page_url, query)
                p50 = quietest_turn(turns[side.size])
                rows[side.size].append(
                    {
                        "page": key[0],
                        "who": who,
                        "url": page_url,
                        "first_ms": first[side.size],
                        "p50_ms": p50,
                        "samples": sum(len(t) for t in turns[side.size]),
                        "queries": queries,
                        "bytes": len(response.content) if not response.streaming else None,
                    }
                )
                print(
                    f"   {key[0]} ({who}) at {side.size:,}: p50 {p50:.1f} ms, {queries} queries",
                    flush=True,
                )
    return {
        "interleaved": True,
        "by_size": {
            side.size: {
                "size": side.size,
                "objects": side.objects,
                "rows": rows[side.size],
                "skipped": side.skipped,
            }
            for side in sides
        },
    }


def requests_per_turn(first_ms: list[float]) -> int:
    """Timed requests per size and turn of the interleaved run: one for a page over
    ``SLOW_MS``; else as many as fit in ``TURN_MS`` at the page's slowest first request,
    at least 3 and at most ``MAX_PER_TURN``."""
    slowest = max(first_ms, default=0.0)
    if slowest > SLOW_MS:
        return 1
    fit = int(TURN_MS // slowest) if slowest > 0 else MAX_PER_TURN
    return max(3, min(MAX_PER_TURN, fit))


def quietest_turn(turns: list[list[float]]) -> float:
    """A size's figure for a page: the lowest of its turns' medians. The page does the same
    work in every turn; what a turn adds above the quietest one is the machine's."""
    return min(statistics.median(t) for t in turns)


def measure(size: int) -> dict:
    """Every page at ``size``; with ``BENCH_DATABASE_URLS`` (``{size: url}`` of every size,
    as ``make bench`` sets it) every size, interleaved (``measure_interleaved``)."""
    import json

    urls = json.loads(os.environ.get("BENCH_DATABASE_URLS") or "{}")
    if len(urls) > 1:
        return measure_interleaved({int(k): v for k, v in urls.items()})
    return measure_one(size)


def measure_one(size: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    # A 403 or 405 is how a page says it is not this role's: not worth a warning each.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    objects = find_objects()
    wanted, skipped = requests_to_make(objects)
    # BENCH_ONLY="pd:,initiatives:detail" measures the pages whose name starts with one of
    # these (to work on a few pages); `make bench` leaves it unset and measures them all.
    only = [p for p in os.environ.get("BENCH_ONLY", "").split(",") if p]
    if only:
        wanted = [w for w in wanted if w[0].startswith(tuple(only))]
    users = {who: get_user_model().objects.get(email=email) for who, email in LOGINS.items()}
    rows = []
    for who, user in users.items():
        client = Client()
        client.force_login(user)
        for name, url, query in wanted:
            started = time.perf_counter()
            response = _get(client, url, query)
            first_ms = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                continue  # not this role's page (403), an action (405) or a redirect
            _get(client, url, query)  # warm-up
            count = SLOW_REQUESTS if first_ms > SLOW_MS else REQUESTS
            samples = []
            for _ in range(count):
                started = time.perf_counter()
                _get(client, url, query)
                samples.append((time.perf_counter() - started) * 1000)
            queries = _fewest_queries(_get, client, url, query)
            p50, _p95 = percentiles(samples)
            rows.append(
                {
                    "page": _label(name, query),
                    "who": who,
                    "url": url,
                    "first_ms": first_ms,
                    "p50_ms": p50,
                    "samples": count,
                    "queries": queries,
                    "bytes": len(response.content) if not response.streaming else None,
                }
            )
            print(
                f"   {_label(name, query)} ({who}): p50 {p50:.1f} ms, {queries} queries",
                flush=True,
            )
    return {"size": size, "objects": objects, "rows": rows, "skipped": skipped}


def _fewest_queries(get, *args) -> int:
    """The page's queries: the fewer of two requests. Once a minute a signed-in request also
    saves the session (the idle timeout's touch, accounts/middleware.py); a slow page makes
    that save land in a counted request more often, which is not the page's own cost."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            get(*args)
        counts.append(len(ctx.captured_queries))
    return min(counts)


def goal_met(small: dict, large: dict) -> bool:
    return (
        small["queries"] == large["queries"]
        and large["p50_ms"] <= GOAL_RATIO * small["p50_ms"]
        and large["p50_ms"] < GOAL_MS
    )


def render(results: dict[int, dict]) -> str:
    for measured in list(results.values()):
        if measured.get("interleaved"):  # one run of every size
            results = {int(size): r for size, r in measured["by_size"].items()}
            break
    sizes = sorted(results)
    small, large = sizes[0], sizes[-1]
    by_key = {s: {(r["page"], r["who"]): r for r in results[s]["rows"]} for s in sizes}
    rows, misses, only_one = [], [], []
    keys = sorted(set(by_key[small]) | set(by_key[large]))
    for key in keys:
        a, b = by_key[small].get(key), by_key[large].get(key)
        if a is None or b is None:
            only_one.append(f"{key[0]} ({key[1]}): answered 200 at {small if a else large:,} only")
            continue
        ratio = b["p50_ms"] / a["p50_ms"] if a["p50_ms"] else None
        ok = goal_met(a, b)
        if not ok:
            misses.append(key)
        rows.append(
            [
                key[0],
                key[1],
                a["queries"],
                b["queries"],
                a["p50_ms"],
                b["p50_ms"],
                f"{ratio:.2f}×" if ratio is not None else None,
                verdict(ok),
            ]
        )
    lines = [
        "## Every page, every role",
        "",
        "Each named URL of the site (the scoping matrix's list) and each CSV export, asked "
        "for with GET by the seeded principal, coach and tech staff of S0001 and by the "
        "district admin; a page is a role's when it answers 200. Server time in-process "
        "(Django test client, production settings), the median of the timed requests after "
        "a warm-up. The sizes are measured in one run, taking turns "
        f"page by page ({TURNS} turns a page, each after a warm-up), so a slow minute of the "
        f"machine falls on both sides of a row; each turn times a page for about {TURN_MS} ms "
        f"(3 to {MAX_PER_TURN} requests; one for a page over {SLOW_MS:,} ms), and a size's "
        "p50 is its quietest turn's median. Goal: the same "
        f"queries at {small:,} and {large:,} students, and at {large:,} a p50 within "
        f"{GOAL_RATIO}× the small one and under {GOAL_MS} ms.",
        "",
        f"{len(rows) - len(misses)} of {len(rows)} page × role rows meet the goal"
        + (f"; missed: {', '.join(f'{p} ({w})' for p, w in misses)}." if misses else "."),
        "",
        table(
            [
                "page",
                "as",
                f"queries ({small:,})",
                f"queries ({large:,})",
                f"p50 ms ({small:,})",
                f"p50 ms ({large:,})",
                "large/small",
                "goal",
            ],
            rows,
        ),
        "",
    ]
    skipped = {s["url"]: s["why"] for s in results[large].get("skipped", [])}
    if skipped or only_one:
        lines += ["Not measured:", ""]
        lines += [f"- {url}: {why}" for url, why in sorted(skipped.items())]
        lines += [f"- {line}" for line in only_one]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    from ._django import section_main

    section_main(measure)
