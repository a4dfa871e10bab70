"""The year-end rollover: every enrolled student moves up a grade, the top grade of a school
moves on to the school it feeds into (or leaves), leavers are marked as left (never
deleted), and grade-band enrollment follows the students. Planned first (nothing written),
then run in one transaction, set-based whatever the district's size."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from equity.inventory.models import Assignment, LeaveReason, Student
from schools.models import GRADE_BANDS, District, Grade, School
from schools.signals import evidence_changed

from .models import RolloverRun, school_year_of

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
    next_school = School.unscoped.filter(pk=OuterRef("school_id")).values("feeds_into_id")
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
    evidence_changed.send(sender=Student, district_ids={district.pk})
    return run
