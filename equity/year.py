"""Writes and reads of the device year: the handout and collection stations, acceptance of
the device agreement, charges, and the year-end rollover.

The station scans reuse ``services.device_check_out`` / ``device_check_in``, so the rules of a
check-out (one open assignment per device and per student, in the database; a device must be
in stock and before its auto-update expiration; student and device of one school) are
enforced in one place. This module adds what a handout day checks on top.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from schools.models import GRADE_BANDS, District, Grade, School
from schools.scoping import scopes_disabled
from schools.signals import bulk_changed

from . import services
from .models import (
    Acceptance,
    AcceptanceMethod,
    Assignment,
    Charge,
    ChargeStatus,
    DamageKind,
    Device,
    DeviceAgreement,
    DeviceEvent,
    DeviceKind,
    EventKind,
    LeaveReason,
    PriceListEntry,
    ReturnCondition,
    RolloverRun,
    Signer,
    StationEvent,
    StationKind,
    Student,
    school_year_of,
)

# A student with this many losses or damaged returns in the last 12 months is flagged.
REPEAT_THRESHOLD = 2
REPEAT_WINDOW = timedelta(days=365)


# --- handout station ------------------------------------------------------------------


@dataclass(frozen=True)
class Handout:
    assignment: Assignment
    student: Student
    device: Device
    incidents: int  # losses and damaged returns in the last 12 months (informs only)


def _student_at(school: School, local_id: str) -> Student:
    student = Student.objects.filter(school=school, local_id__iexact=local_id).first()
    if student is None:
        # Another school's student is not named: the station says only "not here".
        raise ValidationError({"student_id": f"No student with ID {local_id} at this school."})
    if not student.active:
        raise ValidationError({"student_id": f"Student {student.local_id} is no longer enrolled."})
    return student


def _device_at(school: School, asset_tag: str) -> Device:
    device = (
        Device.objects.filter(school=school, asset_tag__iexact=asset_tag)
        .select_related("model", "school")
        .first()
    )
    if device is None:
        msg = f"No device with asset tag {asset_tag} at this school."
        raise ValidationError({"asset_tag": msg})
    return device


@transaction.atomic
def handout_scan(*, event: StationEvent, student_id: str, asset_tag: str, by, at=None) -> Handout:
    """One scanned pair at a handout station: checked, then assigned, or nothing at all.

    Two stations at once stay correct: the check-out locks the device row, and the database
    refuses a second open assignment for the device or for the student.
    """
    if event.kind != StationKind.HANDOUT:
        raise ValidationError("This is not a handout day.")
    student = _student_at(event.school, student_id.strip())
    device = _device_at(event.school, asset_tag.strip())
    if device.model.kind == DeviceKind.HOTSPOT:
        raise ValidationError(
            {"asset_tag": f"{device.asset_tag} is a hotspot; hand it out at the check-out desk."}
        )
    if student.needs_touch and not device.model.touchscreen:
        raise ValidationError(
            {
                "asset_tag": f"Student {student.local_id} needs a touchscreen; "
                f"{device.asset_tag} ({device.model}) has none."
            }
        )
    assignment = services.device_check_out(
        device=device, student=student, by=by, at=at, handout_event=event
    )
    incidents = incident_counts([student.pk]).get(student.pk, 0)
    return Handout(assignment, student, device, incidents)


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


# --- collection station ---------------------------------------------------------------


@dataclass(frozen=True)
class Collected:
    assignment: Assignment
    device: Device
    charges: list[Charge] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)


@transaction.atomic
def collection_scan(
    *,
    event: StationEvent,
    asset_tag: str,
    condition: str = ReturnCondition.GOOD,
    damage_kind: str = "",
    charger_missing: bool = False,
    note: str = "",
    by,
    at=None,
) -> Collected:
    """One device back at a collection station: condition recorded, assignment closed, and
    a charge raised from the price list for damage or a missing charger."""
    if event.kind != StationKind.COLLECTION:
        raise ValidationError("This is not a collection day.")
    note = note.strip()
    if condition not in ReturnCondition.values:
        raise ValidationError({"condition": "Choose a condition."})
    if condition == ReturnCondition.DAMAGED and not note:
        raise ValidationError({"note": "Say in a few words what is damaged."})
    if condition == ReturnCondition.DAMAGED:
        damage_kind = damage_kind or DamageKind.OTHER_DAMAGE
        if damage_kind not in (DamageKind.SCREEN, DamageKind.KEYBOARD, DamageKind.OTHER_DAMAGE):
            raise ValidationError({"damage_kind": "Choose what kind of damage."})
    device = _device_at(event.school, asset_tag.strip())
    assignment = services.device_check_in(
        device=device,
        by=by,
        condition=condition,
        note=note,
        at=at,
        charger_missing=charger_missing,
        collection_event=event,
    )
    device.refresh_from_db(fields=["status"])
    wanted = []
    if condition == ReturnCondition.DAMAGED:
        wanted.append(damage_kind)
    if charger_missing:
        wanted.append(DamageKind.CHARGER)
    charges, unpriced = [], []
    for kind in wanted:
        charge = charge_assess(
            device=device, student=assignment.student, kind=kind, by=by, assignment=assignment,
            note=note, at=at, required=False,
        )  # fmt: skip
        if charge is None:
            unpriced.append(DamageKind(kind).label)
        else:
            charges.append(charge)
    return Collected(assignment, device, charges, unpriced)


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


# --- acceptance -----------------------------------------------------------------------


def acceptance_for(assignment: Assignment) -> Acceptance:
    """The assignment's acceptance, made pending on the current agreement if none yet."""
    existing = Acceptance.objects.filter(assignment=assignment).first()
    if existing is not None:
        return existing
    agreement = DeviceAgreement.current(assignment.device.district_id)
    if agreement is None:
        raise ValidationError("The district has no device agreement yet.")
    try:
        with transaction.atomic():
            return Acceptance.objects.create(assignment=assignment, agreement=agreement)
    except IntegrityError:  # made by someone else a moment ago
        return Acceptance.objects.get(assignment=assignment)


def decode_signature(data_url: str) -> bytes:
    """The PNG bytes of a canvas's ``toDataURL()``; refuses anything else."""
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise ValidationError({"signature": "Sign in the box before saving."})
    try:
        return base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        msg = "The signature could not be read; sign again."
        raise ValidationError({"signature": msg}) from None


@transaction.atomic
def accept_signed(*, assignment: Assignment, signature: bytes, signer: str, at=None) -> Acceptance:
    if signer not in Signer.values:
        raise ValidationError({"signer": "Say who signed."})
    acceptance = acceptance_for(assignment)
    acceptance = Acceptance.objects.select_for_update(of=("self",)).get(pk=acceptance.pk)
    if acceptance.accepted:
        raise ValidationError("This agreement was already accepted.")
    if not assignment.is_open:
        raise ValidationError("This device has already been returned.")
    acceptance.method = AcceptanceMethod.SIGNED
    acceptance.signer = signer
    acceptance.signature = signature
    acceptance.accepted_at = at or timezone.now()
    acceptance.save()
    return acceptance


def acceptance_by_token(token: str) -> Acceptance | None:
    """The acceptance a public link names, read outside any user's scope; None if unknown."""
    if not token:
        return None
    with scopes_disabled():
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


@transaction.atomic
def accept_by_link(*, token: str, signer: str, at=None) -> Acceptance:
    if signer not in Signer.values:
        raise ValidationError({"signer": "Say who is accepting."})
    with scopes_disabled():
        acceptance = Acceptance.objects.select_for_update(of=("self",)).filter(token=token).first()
        if acceptance is None:
            raise ValidationError("This link is not one we know.")
        if acceptance.accepted:
            return acceptance
        acceptance.method = AcceptanceMethod.LINK
        acceptance.signer = signer
        acceptance.accepted_at = at or timezone.now()
        acceptance.save()
    return acceptance


@transaction.atomic
def publish_agreement(*, district: District, title: str, text: str) -> DeviceAgreement:
    """A new version of the district's agreement; earlier versions stay for their acceptances."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write the agreement's text."})
    current = DeviceAgreement.current(district.pk)
    if current is not None and current.text == text and current.title == title.strip():
        raise ValidationError({"text": "This is the text of the current version already."})
    try:
        with transaction.atomic():
            return DeviceAgreement.objects.create(
                district=district,
                version=(current.version + 1) if current else 1,
                title=title.strip() or "Student device agreement",
                text=text,
            )
    except IntegrityError:
        raise ValidationError("Someone published a version a moment ago; reload.") from None


@transaction.atomic
def set_price(*, district: District, kind: str, device_model=None, amount: Decimal):
    """Add or change one line of the district's price list."""
    if kind not in DamageKind.values:
        raise ValidationError({"kind": "Choose a kind of damage."})
    if device_model is not None and device_model.district_id != district.pk:
        raise ValidationError({"device_model": "This model is not in the district's catalog."})
    if amount is None or amount < 0:
        raise ValidationError({"amount": "Enter an amount of zero or more."})
    entry = (
        PriceListEntry.objects.select_for_update(of=("self",))
        .filter(
            district=district,
            kind=kind,
            device_model_id=device_model.pk if device_model else None,
        )
        .first()
    )
    if entry is None:
        try:
            with transaction.atomic():
                return PriceListEntry.objects.create(
                    district=district, kind=kind, device_model=device_model, amount=amount
                )
        except IntegrityError:
            raise ValidationError("Someone set this price a moment ago; reload.") from None
    entry.amount = amount
    entry.save(update_fields=["amount"])
    return entry


# --- charges --------------------------------------------------------------------------


def price_for(device: Device, kind: str) -> Decimal | None:
    """The district's price for ``kind`` on this device's model, else its default line."""
    entries = PriceListEntry.objects.filter(district_id=device.district_id, kind=kind).filter(
        Q(device_model_id=device.model_id) | Q(device_model__isnull=True)
    )
    best = sorted(entries, key=lambda e: e.device_model_id is None)
    return best[0].amount if best else None


@transaction.atomic
def charge_assess(
    *,
    device: Device,
    student: Student,
    kind: str,
    by,
    assignment: Assignment | None = None,
    note: str = "",
    at=None,
    required: bool = True,
) -> Charge | None:
    """Raise a charge at the price list's amount; waived at once for a qualifying student.

    With ``required=False`` a kind without a price raises nothing and returns None.
    """
    if kind not in DamageKind.values:
        raise ValidationError({"kind": "Choose what the charge is for."})
    amount = price_for(device, kind)
    if amount is None:
        if not required:
            return None
        label = DamageKind(kind).label.lower()
        raise ValidationError({"kind": f"The district's price list has no price for {label}."})
    at = at or timezone.now()
    charge = Charge(
        device=device,
        student=student,
        assignment=assignment,
        kind=kind,
        amount=amount,
        note=note[:300],
        created_at=at,
        created_by=by,
    )
    if student.fee_waiver:
        charge.status = ChargeStatus.WAIVED
        charge.resolution_note = "The student qualifies for a fee waiver."
        charge.resolved_at = at
        charge.resolved_by = by
    charge.save()
    return charge


@transaction.atomic
def charge_resolve(*, charge: Charge, status: str, by, note: str = "", at=None) -> Charge:
    charge = Charge.objects.select_for_update(of=("self",)).get(pk=charge.pk)
    if charge.status != ChargeStatus.DUE:
        raise ValidationError(f"This charge is already {charge.get_status_display().lower()}.")
    if status not in (ChargeStatus.PAID, ChargeStatus.WAIVED):
        raise ValidationError({"status": "Choose paid or waived."})
    charge.status = status
    charge.resolution_note = note.strip()[:300]
    charge.resolved_at = at or timezone.now()
    charge.resolved_by = by
    charge.save()
    return charge


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


# --- year-end rollover ----------------------------------------------------------------

LEAVER_COLUMNS = ("student_id", "reason")
LEAVER_REASONS = {
    "graduated": LeaveReason.GRADUATED,
    "transferred": LeaveReason.TRANSFERRED,
    "transfer": LeaveReason.TRANSFERRED,
    "withdrawn": LeaveReason.WITHDRAWN,
    "": LeaveReason.TRANSFERRED,
}


@dataclass
class FeederMove:
    """The students of one school's top grade who move to the next school of the pattern."""

    school: str
    to: str
    from_grade: int
    students: int = 0

    def line(self) -> str:
        return (
            f"  {self.students} from {self.school} (grade {Grade(self.from_grade).label}) to "
            f"{self.to} (grade {Grade(self.from_grade + 1).label})"
        )


@dataclass
class RolloverPlan:
    district: District
    school_year: str
    promote: dict[int, int] = field(default_factory=dict)  # student id -> new grade
    # student id -> (school id, new grade): the top grade moving to the feeder school
    moves: dict[int, tuple[int, int]] = field(default_factory=dict)
    leavers: dict[int, str] = field(default_factory=dict)  # student id -> reason
    blockers: list[tuple[str, list[str]]] = field(default_factory=list)  # (local id, tags)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message)
    feeder_errors: list[str] = field(default_factory=list)
    listed: set[int] = field(default_factory=set)  # leavers named by the uploaded list
    feeder_moves: list[FeederMove] = field(default_factory=list)
    # school id -> {band field: (before, after)} for the bands the moves change
    bands: dict[int, dict[str, tuple[int, int]]] = field(default_factory=dict)
    school_names: dict[int, str] = field(default_factory=dict)
    movers: set[str] = field(default_factory=set)  # local ids of the students in moves
    done_before: bool = False

    @property
    def can_run(self) -> bool:
        return not (self.errors or self.blockers or self.feeder_errors or self.done_before)

    @property
    def moved_up(self) -> int:
        """Students who stay in the district's records one grade up (at their school or the
        next one)."""
        return len(self.promote) + len(self.moves)

    def summary_lines(self) -> list[str]:
        moves = Counter()
        for grade in self.promote.values():
            moves[grade] += 1
        for _school, grade in self.moves.values():
            moves[grade] += 1
        lines = [
            f"School year {self.school_year} of {self.district.name}.",
            f"{self.moved_up} students move up a grade.",
        ]
        for grade in sorted(moves):
            lines.append(f"  into grade {Grade(grade).label}: {moves[grade]}")
        if self.moves:
            lines.append(
                f"{len(self.moves)} of them move on to the next school of the feeder pattern:"
            )
            lines.extend(m.line() for m in self.feeder_moves if m.students)
        reasons = Counter(self.leavers.values())
        lines.append(f"{len(self.leavers)} students leave.")
        for reason in LeaveReason:
            if reasons.get(reason.value):
                lines.append(f"  {reason.label.lower()}: {reasons[reason.value]}")
        if self.bands:
            lines.append("Enrollment by grade band follows the students:")
            for pk, bands in sorted(self.bands.items(), key=lambda i: self.school_names[i[0]]):
                changes = ", ".join(
                    f"{label} {bands[name][0]} → {bands[name][1]}"
                    for name, label, *_ in GRADE_BANDS
                    if name in bands
                )
                lines.append(f"  {self.school_names[pk]}: {changes}")
        if self.done_before:
            lines.append(f"Refused: the rollover of {self.school_year} has already run.")
        for row, message in self.errors:
            lines.append(f"Row {row}: {message}")
        lines.extend(self.feeder_errors)
        for local_id, tags in self.blockers:
            where = "moves to another school" if local_id in self.movers else "leaves"
            lines.append(
                f"Student {local_id} {where} but still holds {', '.join(tags)}: "
                "collect it or mark it lost first."
            )
        return lines


NUL_IN_FILE = (
    'This row contains a NUL byte (an invisible character); save the file as "CSV UTF-8" '
    "and upload it again."
)


def _unreadable(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return "A cell is too long to read; is a quote missing its pair?"
    return f"This row cannot be read as CSV ({exc})."


def read_leavers(text: str) -> tuple[list[tuple[int, str, str]], list[tuple[int, str]]]:
    """Rows (row number, student id, reason) of a leavers CSV, and the problems per row."""
    rows, errors = [], []
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return [], [(line, NUL_IN_FILE)]
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in reader.fieldnames or []]
    except csv.Error as exc:
        return [], [(1, _unreadable(exc))]
    if "student_id" not in header:
        return [], [(1, "The first row must name the columns: student_id, reason.")]
    reader.fieldnames = header
    number = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append((number + 1, _unreadable(exc)))
            break
        number += 1
        local_id = (row.get("student_id") or "").strip()
        reason = (row.get("reason") or "").strip().lower()
        if not local_id:
            errors.append((number, "The student ID is empty."))
        elif reason not in LEAVER_REASONS:
            msg = f'"{reason}" is not a reason: graduated, transferred or withdrawn.'
            errors.append((number, msg))
        else:
            rows.append((number, local_id, LEAVER_REASONS[reason]))
    return rows, errors


def _band_of(grade: int) -> str:
    return next(name for name, _l, low, high in GRADE_BANDS if low <= grade <= high)


def plan_rollover(district: District, leavers_csv: str = "", *, today=None) -> RolloverPlan:
    """What a rollover would do; every row checked, nothing written (a fixed number of queries).

    Students in their school's top grade move on to the school it feeds into (one grade up)
    when the school has one, and leave otherwise. Each school's grade-band enrollment moves
    with the student records: a band loses the students who leave it and gains those who
    enter it (at the same school or from a feeding one), never going below zero.
    """
    today = today or timezone.localdate()
    year = school_year_of(today)
    plan = RolloverPlan(district, year)
    plan.done_before = RolloverRun.objects.filter(district=district, school_year=year).exists()
    rows, plan.errors = read_leavers(leavers_csv) if leavers_csv.strip() else ([], [])

    schools = {s.pk: s for s in School.objects.filter(district=district).order_by("name")}
    plan.school_names = {pk: s.name for pk, s in schools.items()}
    students = list(
        Student.objects.filter(district=district, active=True).values_list(
            "pk", "local_id", "grade", "school_id"
        )
    )
    by_local_id = {local_id.lower(): pk for pk, local_id, _g, _s in students}
    seen: dict[str, int] = {}
    for number, local_id, reason in rows:
        key = local_id.lower()
        if key in seen:
            plan.errors.append((number, f"Student {local_id} is also on row {seen[key]}."))
            continue
        seen[key] = number
        pk = by_local_id.get(key)
        if pk is None:
            plan.errors.append(
                (number, f"No enrolled student with ID {local_id} in {district.name}.")
            )
            continue
        plan.leavers[pk] = reason
        plan.listed.add(pk)
    plan.errors.sort()

    feeders: dict[int, FeederMove] = {}
    for school in schools.values():
        feeder = schools.get(school.feeds_into_id)
        if feeder is None:
            continue
        problem = school.feeder_problem(feeder)
        if problem:
            plan.feeder_errors.append(f"Feeder pattern: {school.name} → {feeder.name}: {problem}")
        else:
            feeders[school.pk] = FeederMove(school.name, feeder.name, school.highest_grade)
    delta: dict[tuple[int, str], int] = Counter()
    for pk, local_id, grade, school_id in students:
        delta[school_id, _band_of(grade)] -= 1
        if pk in plan.leavers:
            continue
        highest = schools[school_id].highest_grade
        if grade < highest:
            plan.promote[pk] = grade + 1
            delta[school_id, _band_of(grade + 1)] += 1
        elif grade >= Grade.G12:
            plan.leavers[pk] = LeaveReason.GRADUATED
        elif school_id in feeders:
            move = feeders[school_id]
            to = schools[school_id].feeds_into_id
            plan.moves[pk] = (to, grade + 1)
            move.students += 1
            plan.movers.add(local_id)
            delta[to, _band_of(grade + 1)] += 1
        else:  # completes the school with no next school set: leaves the records
            plan.leavers[pk] = LeaveReason.COMPLETED
    plan.feeder_moves = list(feeders.values())
    for (school_id, band), change in sorted(delta.items()):
        if change:
            before = getattr(schools[school_id], band)
            plan.bands.setdefault(school_id, {})[band] = (before, max(0, before + change))

    held = defaultdict(list)
    for local_id, tag in (
        Assignment.objects.filter(
            checked_in_at__isnull=True, student_id__in=[*plan.leavers, *plan.moves]
        )
        .order_by("student__local_id", "device__asset_tag")
        .values_list("student__local_id", "device__asset_tag")
    ):
        held[local_id].append(tag)
    plan.blockers = sorted(held.items())
    return plan


@transaction.atomic
def run_rollover(district: District, leavers_csv: str = "", *, by, today=None) -> RolloverRun:
    """Close the school year: leavers marked (kept, never deleted), the rest move up a grade.

    Refused as a whole while a row has a problem, a leaver still holds a device, or the
    year has already been rolled over.
    """
    today = today or timezone.localdate()
    plan = plan_rollover(district, leavers_csv, today=today)
    if not plan.can_run:
        raise ValidationError(plan.summary_lines())
    try:
        with transaction.atomic():
            run = RolloverRun.objects.create(
                district=district,
                school_year=plan.school_year,
                ran_at=timezone.now(),
                ran_by=by,
                promoted=plan.moved_up,
                leavers=len(plan.leavers),
                details={"lines": plan.summary_lines(), "moved_school": len(plan.moves)},
            )
    except IntegrityError:
        raise ValidationError(f"The rollover of {plan.school_year} has already run.") from None
    now = timezone.now()
    listed = defaultdict(list)
    for pk, reason in plan.leavers.items():
        if pk in plan.listed:
            listed[reason].append(pk)
    for reason, ids in listed.items():  # the uploaded list: as long as the file
        Student.objects.filter(pk__in=ids).update(
            active=False, left_on=today, leave_reason=reason, updated_at=now
        )
    # Set-based from here on, whatever the district's size: the top grades of schools with
    # no next school leave, everyone else moves up a grade, and then those now past their
    # school's top grade move to the school it feeds into (its homeroom stays behind).
    enrolled = Student.objects.filter(district=district, active=True)
    top = enrolled.filter(grade__gte=F("school__highest_grade"))
    top.filter(grade__gte=Grade.G12).update(
        active=False, left_on=today, leave_reason=LeaveReason.GRADUATED, updated_at=now
    )
    top.filter(school__feeds_into__isnull=True).update(
        active=False, left_on=today, leave_reason=LeaveReason.COMPLETED, updated_at=now
    )
    enrolled.update(grade=F("grade") + 1, updated_at=now)
    next_school = School._base_manager.filter(pk=OuterRef("school_id")).values("feeds_into_id")
    enrolled.filter(grade__gt=F("school__highest_grade")).update(
        school_id=Subquery(next_school[:1]), homeroom="", updated_at=now
    )
    changed = [
        (pk, {band: after for band, (_before, after) in bands.items()})
        for pk, bands in plan.bands.items()
    ]
    if changed:
        schools = School.objects.in_bulk([pk for pk, _b in changed])
        for pk, bands in changed:
            for band, after in bands.items():
                setattr(schools[pk], band, after)
        School.objects.bulk_update(
            schools.values(), [name for name, *_ in GRADE_BANDS], batch_size=500
        )
    bulk_changed.send(sender=Student, district_ids={district.pk})
    return run
