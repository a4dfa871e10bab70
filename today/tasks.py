"""Beat's weekly digest and daily reminders. The beat task sends one task per district
through the outbox (core.queue), each of which sends that district's e-mail; every send is
claimed first (today.notices), so a redelivered or retried task sends nothing twice."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from core import queue
from schools.models import District
from schools.scoping import outside_scope

from . import notices


def _district_ids() -> list[int]:
    with outside_scope():
        return list(District.objects.order_by("pk").values_list("pk", flat=True))


@shared_task
def weekly_digests() -> int:
    """Beat: queue this week's digests of every district."""
    ids = _district_ids()
    for pk in ids:
        queue.send("today.tasks.district_digests", [pk])
    return len(ids)


@shared_task
def daily_reminders() -> int:
    """Beat: queue the reminders due today in every district."""
    ids = _district_ids()
    for pk in ids:
        queue.send("today.tasks.district_reminders", [pk])
    return len(ids)


class SomeNotSent(Exception):
    """Some e-mail of a run was refused; the retry sends those (the rest are claimed)."""


def _district(district_id: int) -> District | None:
    with outside_scope():
        return District.objects.filter(pk=district_id).first()


@shared_task(autoretry_for=(SMTPException, OSError, SomeNotSent), retry_backoff=True, max_retries=5)
def district_digests(district_id: int) -> int:
    district = _district(district_id)
    if district is None:
        return 0
    result = notices.send_digests(district)
    if result.failed:
        raise SomeNotSent(f"{result.failed} digests of district {district_id} were refused")
    return result.sent


@shared_task(autoretry_for=(SMTPException, OSError, SomeNotSent), retry_backoff=True, max_retries=5)
def district_reminders(district_id: int) -> int:
    district = _district(district_id)
    if district is None:
        return 0
    result = notices.send_reminders(district)
    if result.failed:
        raise SomeNotSent(f"{result.failed} reminders of district {district_id} were refused")
    return result.sent
