"""Reads of the device year: who still waits for a device at a handout day, what is still
out at a collection day, the price list, and students with repeated losses or damage."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from equity.inventory.models import (
    Assignment,
    Device,
    DeviceEvent,
    EventKind,
    ReturnCondition,
    Student,
)
from schools.models import School
from schools.scoping import outside_scope

from .models import Acceptance, PriceListEntry, StationEvent

# A student with this many losses or damaged returns in the last 12 months is flagged.
REPEAT_THRESHOLD = 2


REPEAT_WINDOW = timedelta(days=365)


def student_at(school: School, local_id: str) -> Student:
    student = Student.objects.filter(school=school, local_id__iexact=local_id).first()
    if student is None:
        # Another school's student is not named: the station says only "not here".
        raise ValidationError({"student_id": f"No student with ID {local_id} at this school."})
    if not student.active:
        raise ValidationError({"student_id": f"Student {student.local_id} is no longer enrolled."})
    return student


def device_at(school: School, asset_tag: str) -> Device:
    device = (
        Device.objects.filter(school=school, asset_tag__iexact=asset_tag)
        .select_related("model", "school")
        .first()
    )
    if device is None:
        msg = f"No device with asset tag {asset_tag} at this school."
        raise ValidationError({"asset_tag": msg})
    return device


def handout_progress(event: StationEvent) -> dict:
    """Of the students this day is for, how many hold a device now (one query)."""
    holds = Assignment.objects.filter(
        student=OuterRef("pk"), checked_in_at__isnull=True, is_hotspot=False
    )
    counts = event.students().aggregate(
        expected=Count("pk"), handed=Count("pk", filter=Q(Exists(holds)))
    )
    counts["left"] = counts["expected"] - counts["handed"]
    counts["percent"] = _percent(counts["handed"], counts["expected"])
    return counts


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def students_without_device(event: StationEvent, *, limit: int) -> list[Student]:
    holds = Assignment.objects.filter(
        student=OuterRef("pk"), checked_in_at__isnull=True, is_hotspot=False
    )
    waiting = event.students().filter(~Exists(holds)).order_by("grade", "homeroom", "local_id")
    return list(waiting[:limit])


def _not_returned(event: StationEvent):
    """Open computing and hotspot assignments of the day's students, device at this school.

    The day's students (``event.students()``: active, of the school, of its grades) are
    filtered on the one join to the student, not given as a subquery: ``student__in``
    joined the students a second time and let PostgreSQL read every student of the
    district to group a single school's devices."""
    students = Q(student__school_id=event.school_id, student__active=True)
    if event.grades:
        students &= Q(student__grade__in=event.grades)
    return (
        Assignment.objects.filter(
            students,
            checked_in_at__isnull=True,
            device__school_id=event.school_id,
        )
        .select_related("device", "device__model", "student")
        .order_by("student__grade", "student__homeroom", "student__local_id", "device__asset_tag")
    )


def collection_progress(event: StationEvent) -> dict:
    """Devices back at this collection day, and devices still out (two queries)."""
    back = Assignment.objects.filter(collection_event=event).count()
    out = _not_returned(event).count()
    return {"back": back, "out": out, "expected": back + out, "percent": _percent(back, back + out)}


def not_returned(event: StationEvent, *, limit: int | None = None) -> list[Assignment]:
    rows = _not_returned(event)
    return list(rows if limit is None else rows[:limit])


def not_returned_groups(event: StationEvent) -> list[dict]:
    """How many devices are still out per grade and homeroom (one grouped query)."""
    return list(
        _not_returned(event)
        .order_by("student__grade", "student__homeroom")
        .values("student__grade", "student__homeroom")
        .annotate(n=Count("pk"))
    )


def not_returned_rows(event: StationEvent):
    """The not-returned list for the CSV export, one row per device (lazy)."""
    return _not_returned(event).values_list(
        "student__grade",
        "student__homeroom",
        "student__local_id",
        "device__asset_tag",
        "device__model__maker",
        "device__model__name",
        "checked_out_at__date",
    )


def acceptance_by_token(token: str) -> Acceptance | None:
    """The acceptance a public link names, read outside any user's scope; None if unknown."""
    if not token:
        return None
    with outside_scope():
        return (
            Acceptance.objects.filter(token=token)
            .select_related(
                "agreement",
                "assignment__device__model",
                "assignment__device__school",
                "assignment__student",
            )
            .first()
        )


def price_for(device: Device, kind: str) -> Decimal | None:
    """The district's price for ``kind`` on this device's model, else its default line."""
    entries = PriceListEntry.objects.filter(district_id=device.district_id, kind=kind).filter(
        Q(device_model_id=device.model_id) | Q(device_model__isnull=True)
    )
    best = sorted(entries, key=lambda e: e.device_model_id is None)
    return best[0].amount if best else None


def incident_counts(student_ids, *, now=None) -> dict[int, int]:
    """Losses, thefts and damaged returns per student in the last 12 months (two queries).

    It informs the tech office and the principal; nothing refuses a device because of it.
    """
    since = (now or timezone.now()) - REPEAT_WINDOW
    counts: Counter = Counter()
    losses = (
        DeviceEvent.objects.filter(
            student_id__in=student_ids, kind__in=(EventKind.LOST, EventKind.STOLEN), at__gte=since
        )
        .values("student_id")
        .annotate(n=Count("pk"))
    )
    damages = (
        Assignment.objects.filter(
            student_id__in=student_ids,
            condition_on_return=ReturnCondition.DAMAGED,
            checked_in_at__gte=since,
        )
        .values("student_id")
        .annotate(n=Count("pk"))
    )
    for row in [*losses, *damages]:
        counts[row["student_id"]] += row["n"]
    return dict(counts)


def repeat_cases(school: School, *, now=None) -> list[tuple[Student, int]]:
    """The school's students with repeated losses or damage in the last 12 months."""
    since = (now or timezone.now()) - REPEAT_WINDOW
    involved = set(
        DeviceEvent.objects.filter(
            school=school, kind__in=(EventKind.LOST, EventKind.STOLEN), at__gte=since
        )
        .exclude(student=None)
        .values_list("student_id", flat=True)
    ) | set(
        Assignment.objects.filter(
            device__school=school,
            condition_on_return=ReturnCondition.DAMAGED,
            checked_in_at__gte=since,
        ).values_list("student_id", flat=True)
    )
    counts = incident_counts(involved, now=now)
    flagged = {sid: n for sid, n in counts.items() if n >= REPEAT_THRESHOLD}
    students = Student.objects.filter(pk__in=flagged).order_by("local_id")
    return [(s, flagged[s.pk]) for s in students]
