"""The weekly digest job for a whole district: every person's home page composed and sent.

``today.notices.send_digests`` is run exactly as the beat task and ``send_digests`` run it:
for each person with a role in the district, their access is read, their home's sections
are composed in their scope and time zone (the same selectors as the page), a ``Sent`` row
is claimed, and the plain-text and HTML message goes through Django's SMTP backend to an
SMTP server on loopback (aiosmtpd in a thread, which accepts and discards), over one
connection. Three figures per size:

- **composed only** (``--dry-run``): reading and rendering, no claim, no SMTP;
- **composed and sent**: the real job, then a second run in the same week, which must send
  nothing (the claims answer it); both inside a transaction rolled back afterwards, so the
  database keeps its state;
- queries per person, which must not grow with the district.

Run by hand: ``DATABASE_URL=... python -m bench.digests --size 1000000``.
"""

from __future__ import annotations

import socket
import time

from bench._django import section_main
from bench.report import table, verdict

DISTRICT = "Scale District"
# The digest job's goal (docs/scale.md): a district's digests well inside an hour of beat.
GOAL_SECONDS = 600


class _Sink:
    """Accept every message and keep only a count."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook
        self.count += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(size: int) -> dict:
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from schools.models import District
    from schools.scoping import outside_scope
    from today import notices

    with outside_scope():
        district = District.unscoped.get(name=DISTRICT)
    people = len(notices.recipients(district))

    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as dry_queries:
            dry = notices.send_digests(district, dry_run=True)
        dry_seconds = time.perf_counter() - started

        with transaction.atomic():
            started = time.perf_counter()
            sent = notices.send_digests(district)
            sent_seconds = time.perf_counter() - started
            again = notices.send_digests(district)
            transaction.set_rollback(True)
    finally:
        controller.stop()
    return {
        "people": people,
        "composed": dry.sent,
        "dry_seconds": dry_seconds,
        "dry_per_second": dry.sent / dry_seconds if dry_seconds else None,
        "queries_per_person": len(dry_queries.captured_queries) / max(people, 1),
        "sent": sent.sent,
        "sent_seconds": sent_seconds,
        "sent_per_second": sent.sent / sent_seconds if sent_seconds else None,
        "arrived": sink.count,
        "second_run_sent": again.sent,
        "failed": sent.failed,
    }


def render(results: dict[int, dict]) -> str:
    rows = []
    largest = max(results)
    for size, r in sorted(results.items()):
        ok = (
            r["second_run_sent"] == 0
            and r["arrived"] == r["sent"]
            and r["sent_seconds"] <= GOAL_SECONDS
        )
        rows.append(
            [
                size,
                r["people"],
                r["composed"],
                round(r["dry_seconds"], 2),
                round(r["dry_per_second"] or 0, 1),
                round(r["queries_per_person"], 1),
                r["sent"],
                round(r["sent_seconds"], 2),
                round(r["sent_per_second"] or 0, 1),
                r["second_run_sent"],
                verdict(ok) if size == largest else "–",
            ]
        )
    return "\n".join(
        [
            "## Weekly digests (today.notices.send_digests)",
            "",
            "Every person with a role in the district gets their home page's items by e-mail:",
            "composed in their scope and time zone, claimed once per week, sent over one SMTP",
            "connection to a loopback server. A second run in the same week must send nothing.",
            f"Goal: a district's digests within {GOAL_SECONDS} s.",
            "",
            table(
                [
                    "students",
                    "people",
                    "digests composed",
                    "compose s",
                    "composed / s",
                    "queries / person",
                    "sent",
                    "send s",
                    "sent / s",
                    "second run sent",
                    "goal",
                ],
                rows,
            ),
        ]
    )


if __name__ == "__main__":
    section_main(measure)
