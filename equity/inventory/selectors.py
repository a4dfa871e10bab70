"""Reads of the equity app that views share. Coverage lives in coverage.py."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Exists, OuterRef

from .models import Device, DeviceEvent, DeviceStatus, EventKind

# A physical audit looks for the devices that should be somewhere in the building or with
# a student; lost, stolen and retired devices are not expected.
AUDITED_STATUSES = (DeviceStatus.IN_STOCK, DeviceStatus.ASSIGNED, DeviceStatus.IN_REPAIR)


def seen_since(started: datetime):
    """An expression: the device was seen in an audit at or after ``started``."""
    return Exists(
        DeviceEvent.objects.filter(
            device=OuterRef("pk"), kind=EventKind.AUDIT_SEEN, at__gte=started
        )
    )


def audited_devices(school):
    return Device.objects.filter(school=school, status__in=AUDITED_STATUSES)


def audit_counts(school, started: datetime | None) -> dict:
    """How many devices the audit expects, and how many it has seen (one query)."""
    audited = audited_devices(school)
    if started is None:
        return {"total": audited.count(), "seen": 0}
    return audited.aggregate(total=Count("pk"), seen=Count("pk", filter=seen_since(started)))


def audit_missing(school, started: datetime | None, *, limit: int) -> list[Device]:
    """The expected devices not seen since the audit began, at most ``limit`` of them."""
    missing = audited_devices(school).select_related("model").order_by("asset_tag", "pk")
    if started is not None:
        missing = missing.filter(~seen_since(started))
    return list(missing[:limit])
