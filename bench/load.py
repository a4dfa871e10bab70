"""Load: gunicorn with the production settings on loopback, 50 people clicking for 60 seconds.

``measure`` gathers the pages each seeded principal, coach and tech-staff login would open
(their own school's dashboard, initiative, survey results, PD sessions, inventory, a
device), writes them to a plan file, collects the static files, starts gunicorn on a free
loopback port exactly as the Docker image does (``config.wsgi``, DEBUG off, Redis for
cache and broker), and runs locust headless against it (bench/locustfile.py). TLS is not
terminated on loopback, so requests carry ``X-Forwarded-Proto: https`` as from the proxy,
and only the cookies' Secure flag and the HTTPS redirect are switched off.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from ._django import ROOT, section_main
from .report import table, verdict

USERS = int(os.environ.get("BENCH_LOAD_USERS", "50"))
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "60"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
DOMAIN = "scale.test"


def _first(queryset):
    obj = queryset.first()
    if obj is None:
        raise SystemExit(f"the seeded district has no {queryset.model.__name__}: run seed_scale")
    return obj


def _session(user) -> str:
    """A signed-in session of ``user``, opened through Django's login() (its signals, the
    session registry) but without the password hasher: PBKDF2 at Django's 1,000,000
    iterations costs about half a second of CPU by design, and fifty sign-ins at once on two
    cores would measure the hasher instead of the pages."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def plan() -> dict:
    """Every seeded login of the three roles, with a session and its own school's pages."""
    from django.urls import reverse

    from equity.inventory.models import Device, DeviceStatus
    from initiatives.models import Initiative
    from pd.models import PDSession
    from schools.models import Membership, Role
    from schools.scoping import outside_scope
    from stakeholders.models import Survey

    people: dict[str, list[dict]] = {"principal": [], "coach": [], "tech": []}
    roles = {Role.PRINCIPAL: "principal", Role.COACH: "coach", Role.TECH_STAFF: "tech"}
    with outside_scope():
        memberships = (
            Membership.objects.filter(user__email__endswith="@" + DOMAIN, role__in=list(roles))
            .exclude(school=None)
            .select_related("user", "school")
            .order_by("school__code", "role")
        )
        for m in memberships:
            school = m.school
            device = _first(
                Device.objects.filter(school=school, status=DeviceStatus.ASSIGNED).order_by("pk")
            )
            urls = {
                "readiness": reverse("readiness:school", args=[school.pk]),
                "coverage": reverse("equity:coverage", args=[school.pk]),
                "inventory": reverse("equity:inventory") + f"?school={school.pk}",
                "inventory_filtered": reverse("equity:inventory")
                + f"?school={school.pk}&status={DeviceStatus.ASSIGNED}&model={device.model_id}",
                "inventory_search": reverse("equity:inventory") + f"?q={device.asset_tag[:-2]}",
                "device": reverse("equity:device_detail", args=[device.pk]),
                "sessions": reverse("pd:session_list"),
                "pd_reports": reverse("pd:reports"),
            }
            if m.role == Role.PRINCIPAL:
                initiative = _first(Initiative.objects.filter(schools=school).order_by("pk"))
                survey = _first(
                    Survey.objects.filter(schools=school, responses__isnull=False)
                    .distinct()
                    .order_by("pk")
                )
                urls["initiative"] = reverse("initiatives:detail", args=[initiative.pk])
                urls["survey_results"] = reverse("stakeholders:survey_results", args=[survey.pk])
            if m.role == Role.COACH:
                session = _first(PDSession.objects.filter(schools=school).order_by("-date", "pk"))
                urls["session"] = reverse("pd:session_detail", args=[session.pk])
            people[roles[m.role]].append(
                {"email": m.user.email, "urls": urls, "session": _session(m.user)}
            )
    missing = [role for role, logins in people.items() if not logins]
    if missing:
        raise SystemExit(f"no seeded {', '.join(missing)} logins @{DOMAIN}: run seed_scale")
    return {"cookie": settings.SESSION_COOKIE_NAME, "people": people}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped with {process.returncode}")
        try:
            request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})  # noqa: S310
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer /healthz")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # "N/A" for a name that saw no request
        return 0.0


def _aggregate(stats_csv: Path) -> tuple[dict, list[dict]]:
    with stats_csv.open() as f:
        rows = list(csv.DictReader(f))
    endpoints = []
    total = {}
    for row in rows:
        figures = {
            "name": row["Name"],
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "p50_ms": _number(row["50%"]),
            "p95_ms": _number(row["95%"]),
            "rps": float(row["Requests/s"]),
        }
        if row["Name"] == "Aggregated":
            total = figures
        else:
            endpoints.append(figures)
    return total, endpoints


def measure(size: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="pillarwise-load-"))
    plan_file = work / "plan.json"
    plan_file.write_text(json.dumps(plan()))
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        # The key that signed the sessions in the plan.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        # The broker of the measuring process, else the local one ("" is in-process).
        "REDIS_URL": settings.REDIS_URL or "redis://127.0.0.1:6379/0",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        # Plain HTTP on loopback: no TLS proxy here to make cookies Secure or redirect for.
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    subprocess.run(  # noqa: S603
        [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    gunicorn = Path(python).with_name("gunicorn")
    server = subprocess.Popen(  # noqa: S603
        [str(gunicorn), "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", str(WORKERS), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    host = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(host + "/healthz", server)
        locust = Path(python).with_name("locust")
        started = time.monotonic()
        subprocess.run(  # noqa: S603
            [str(locust), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless"]
            + ["--users", str(USERS), "--spawn-rate", str(max(1, USERS // 10))]
            + ["--run-time", f"{SECONDS}s", "--host", host, "--csv", str(work / "run")]
            + ["--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"],
            cwd=ROOT,
            env={**os.environ, "PILLARWISE_LOAD_PLAN": str(plan_file)},
            check=True,
        )
        wall = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    total, endpoints = _aggregate(work / "run_stats.csv")
    return {
        "users": USERS,
        "seconds": SECONDS,
        "wall_seconds": wall,
        "workers": WORKERS,
        "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
        "total": total,
        "endpoints": endpoints,
    }


def render(results: dict[int, dict]) -> str:
    size, r = max(results.items())
    total = r["total"]
    rows = [
        [e["name"], e["requests"], e["failures"], e["p50_ms"], e["p95_ms"], e["rps"]]
        for e in sorted(r["endpoints"], key=lambda e: e["name"])
    ]
    rows.append(
        [
            "**all**",
            total["requests"],
            total["failures"],
            total["p50_ms"],
            total["p95_ms"],
            total["rps"],
        ]
    )
    ok = total["failures"] == 0 and total["requests"] > 0
    return "\n".join(
        [
            "## Load (gunicorn + locust)",
            "",
            f"{r['users']} people at {size:,} students for {r['seconds']} s: principals, coaches "
            f"and tech staff in equal numbers, each signed in with a seeded login and clicking "
            f"through their own school's pages with 1–3 s between clicks. gunicorn "
            f"`config.wsgi` with {r['workers']} sync workers and the production settings "
            "(DEBUG off, Redis cache, persistent database connections) on loopback; locust "
            "runs on the same two cores, so the figures include its own load.",
            "",
            table(["request", "requests", "failures", "p50 ms", "p95 ms", "req/s"], rows),
            "",
            f"No errors: **{verdict(ok)}** ({total['failures']} failures of "
            f"{total['requests']:,} requests; {total['rps']:.1f} requests/s, p95 "
            f"{total['p95_ms']:.0f} ms).",
        ]
    )


if __name__ == "__main__":
    section_main(measure)
