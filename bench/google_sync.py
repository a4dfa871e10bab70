"""Google sync: 50,000 Chromebooks read from a Directory API on loopback and written into
the inventory, as ``sync_google_devices`` runs it.

    python -m bench.google_sync --size 1000      # DATABASE_URL: a migrated PostgreSQL database

The fleet does not depend on the seeded size: a district of its own, "Google Bench" (four
schools, each an org unit), with ``DEVICES`` Chromebooks in Google, 167 pages of 300. The
stand-in for Google is the test suite's (tests/googlesync/fake_directory.py: the token
endpoint verifies the signed JWT assertion; the list pages by ``pageToken``), served by
pytest-httpserver in a thread of this process; the real ``google-api-python-client`` reads
it over HTTP, so the figures include the client's parsing of every page.

- **first sync**: every device new (created, with its "Added to inventory" event, Google's
  record of it, its catalog entry).
- **second sync**: the same fleet again, 5 % of it moved to another school's org unit and
  2 % deprovisioned (updates with "Moved"/"Arrived" events, retirements).
- **memory**: the peak resident size (VmHWM, reset before each run through
  /proc/self/clear_refs) above the size before the run.

The district is deleted with everything in it at the end, so runs repeat.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime, timedelta

from ._django import section_main
from .report import table, verdict

DEVICES = 50_000
GOAL_SECONDS = 120  # a nightly sync of a large district's fleet inside two minutes
DISTRICT, SLUG = "Google Bench", "google-bench"
SCHOOLS = [
    ("GB01", "Birch Elementary"),
    ("GB02", "Alder Elementary"),
    ("GB03", "Rowan Middle"),
    ("GB04", "Linden High"),
]
MODELS = [
    "Acer Chromebook Spin 512",
    "Lenovo 100e Chromebook Gen 4",
    "HP Chromebook 11 G9 EE",
    "Dell Chromebook 3110",
]


def _rss_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident size
    except OSError:
        pass


def _district():
    from schools.models import District, School

    district, _ = District.objects.get_or_create(slug=SLUG, defaults={"name": DISTRICT})
    schools = [
        School.objects.get_or_create(
            district=district,
            code=code,
            defaults={"name": name, "lowest_grade": 0, "highest_grade": 12},
        )[0]
        for code, name in SCHOOLS
    ]
    return district, schools


def _remove(district) -> None:
    from django.db import connection, transaction

    from schools.models import School

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM googlesync_googledevice WHERE district_id = %s", [district.pk])
        cursor.execute(
            "DELETE FROM equity_deviceevent WHERE device_id IN "
            "(SELECT id FROM equity_device WHERE district_id = %s)",
            [district.pk],
        )
        cursor.execute("DELETE FROM equity_device WHERE district_id = %s", [district.pk])
    with transaction.atomic():
        School.objects.filter(district=district).delete()
        district.delete()


def _timed_sync(connection) -> tuple[dict, float, float]:
    from googlesync import services

    _reset_peak()
    before = _rss_mib("VmRSS")
    marks: dict[str, float] = {}

    def progress(phase, done, total):
        marks.setdefault(str(phase), time.perf_counter())

    started = time.perf_counter()
    result = services.sync(connection, progress=progress)
    seconds = time.perf_counter() - started
    figures = result.as_json()
    figures["reading_seconds"] = marks.get("writing", started) - started
    return figures, seconds, _rss_mib("VmHWM") - before


def measure(size: int) -> dict:
    from django.conf import settings
    from pytest_httpserver import HTTPServer

    from googlesync import services
    from schools.scoping import outside_scope
    from tests.googlesync.fake_directory import FakeDirectory

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per page otherwise
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        fake = FakeDirectory(server)
        settings.GOOGLE_DIRECTORY_API_URL = fake.api_url
        seen = datetime.now(UTC) - timedelta(days=2)
        with outside_scope():
            district, schools = _district()
            _remove(district)
            district, schools = _district()
            connection = services.connection_save(
                district=district,
                by=None,
                key_file=fake.key_file(),
                admin_email=fake.admin,
                customer_id=fake.customer,
                org_unit_root="/",
                default_school=None,
                lost_message="Return to any school office.",
            )
            for code, _name in SCHOOLS:
                services.org_unit_map(
                    district=district,
                    path=f"/Students/{code}",
                    school=schools[SCHOOLS.index((code, _name))],
                )
            for i in range(DEVICES):
                fake.add(
                    f"GB{i:07d}",
                    ou=f"/Students/{SCHOOLS[i % 4][0]}/Grade {i % 12}",
                    model=MODELS[i % 4],
                    asset=f"GB-{i:07d}",
                    location=f"Cart {i % 40}",
                    aue=f"{2027 + i % 6}-06-01",
                    last_sync=seen,
                )
            first, first_seconds, first_mib = _timed_sync(connection)
            for i, device in enumerate(fake.devices.values()):
                if i % 20 == 0:
                    device["orgUnitPath"] = f"/Students/{SCHOOLS[(i + 1) % 4][0]}"
                elif i % 50 == 1:
                    device["status"] = "DEPROVISIONED"
            second, second_seconds, second_mib = _timed_sync(connection)
            _remove(district)
    finally:
        server.clear()
        server.stop()
    return {
        "devices": DEVICES,
        "pages": first["pages"],
        "first_seconds": first_seconds,
        "first_created": first["created"],
        "first_reading_seconds": first["reading_seconds"],
        "first_rss_mib": first_mib,
        "second_seconds": second_seconds,
        "second_reading_seconds": second["reading_seconds"],
        "second_updated": second["updated"],
        "second_retired": second["retired"],
        "second_rss_mib": second_mib,
        "cpus": os.cpu_count(),
    }


def render(results: dict[int, dict]) -> str:
    rows = []
    for size, r in sorted(results.items()):
        rows.append(
            [
                size,
                f"{r['devices']:,} in {r['pages']} pages",
                f"{r['first_seconds']:.1f} s ({r['first_reading_seconds']:.1f} reading), "
                f"{r['devices'] / r['first_seconds']:,.0f}/s, {r['first_created']:,} created",
                f"{r['first_rss_mib']:.0f} MiB",
                f"{r['second_seconds']:.1f} s ({r['second_reading_seconds']:.1f} reading), "
                f"{r['second_updated']:,} updated, "
                f"{r['second_retired']:,} retired",
                f"{r['second_rss_mib']:.0f} MiB",
                verdict(max(r["first_seconds"], r["second_seconds"]) <= GOAL_SECONDS),
            ]
        )
    return "\n".join(
        [
            "## Google sync",
            "",
            "`python -m bench.google_sync`: a fleet of Chromebooks read from a Directory API on "
            "loopback through Google's client (paged, 300 a page) and written through the "
            "inventory's bulk writer in one transaction; peak resident memory above the "
            f"process's size before the run. Goal: a sync within {GOAL_SECONDS} s.",
            "",
            table(
                [
                    "students seeded",
                    "fleet",
                    "first sync",
                    "peak memory",
                    "second sync (5 % moved, 2 % deprovisioned)",
                    "peak memory",
                    "goal",
                ],
                rows,
            ),
            "",
        ]
    )


if __name__ == "__main__":
    section_main(measure)
