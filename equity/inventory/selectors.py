"""Reads of the equity app that views share. Coverage lives in coverage.py."""

from __future__ import annotations

from datetime import datetime

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    FilteredRelation,
    OuterRef,
    Q,
    Value,
    When,
)

from schools.exports import CsvColumn
from schools.models import GRADE_BANDS

from .models import Device, DeviceEvent, DeviceStatus, EventKind, Student

# The inventory's CSV: (header, field) per column.
INVENTORY_CSV = [
    CsvColumn("asset_tag", "asset_tag"),
    CsvColumn("serial_number", "serial_number"),
    CsvColumn("school_code", "school__code"),
    CsvColumn("school", "school__name"),
    CsvColumn("maker", "model__maker"),
    CsvColumn("model", "model__name"),
    CsvColumn("kind", "model__kind"),
    CsvColumn("status", "status"),
    CsvColumn("student_id", "open_assignment__student__local_id"),
    CsvColumn("purchase_date", "purchase_date"),
    CsvColumn("funding_source", "funding_source"),
]


def inventory_export(devices):
    """The columns and rows of the inventory's CSV for ``devices`` (scoped, filtered and
    sorted as the list is): the holder comes through one join, where the list reads it per
    row; a million correlated lookups would not do."""
    # At most one open assignment per device (a database constraint): no row repeats.
    rows = devices.annotate(
        open_assignment=FilteredRelation(
            "assignments", condition=Q(assignments__checked_in_at__isnull=True)
        )
    )
    return INVENTORY_CSV, rows


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


def active_students_by_band(school_ids) -> dict[int, dict[str, int]]:
    """Active students per school and grade band field (one grouped query): the enrollment
    a roster sync writes (``schools.services.enrollment_from_roster``)."""
    band = Case(
        *[
            When(grade__gte=low, grade__lte=high, then=Value(name))
            for name, _l, low, high in GRADE_BANDS
        ],
        output_field=CharField(),
    )
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Student.unscoped.filter(school_id__in=list(school_ids), active=True)
        .annotate(band=band)
        .values_list("school_id", "band")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for school_id, name, n in rows:
        counts.setdefault(school_id, {})[name] = n
    return counts
