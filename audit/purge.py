"""Removing student records: by school, by student, and by the district's retention rule.

What goes (see docs/privacy.md for the why):

- the ``equity.Student`` rows themselves (local ID, grade, flags, homeroom, leave reason);
- their ``Assignment`` rows and, with them, each assignment's ``Acceptance`` (the signer
  and the drawn signature);
- their ``Charge`` rows (damage and loss charges name the student);
- the link from ``DeviceEvent`` to the student: the device's history keeps every event
  (a check-out on that date, a loss) so the device's story and its counts stay true, but
  the event no longer names the student, and its free-text note and place are cleared,
  since a note written at the desk may describe the student;
- the rows of student-import error lists that quote a purged local ID;
- on a school purge, additionally: the school's student import jobs, and on surveys of
  that school, the names and addresses on person links sent to students together with
  the tie between such a link and its answers (the answers stay, anonymous).

Devices stay. A device a purged student still held goes back in stock first (its open
assignment closed, a ``released`` event that names no one,
``equity.inventory.services.devices_release``), so no device is left "assigned" to nobody,
which check-in would refuse. Everything runs in one transaction: all of it goes, or nothing
does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.auditlog import Kind, record
from equity.imports.models import ImportJob
from equity.inventory.models import Assignment, DeviceEvent, Student
from equity.inventory.services import devices_release
from equity.year.models import Acceptance, Charge
from schools.models import District, School
from schools.scoping import outside_scope
from schools.signals import evidence_changed
from stakeholders.models import Audience, Invitation, InvitationKind, PersonResponse

from .models import PurgeRecord, Retention


@dataclass
class PurgeResult:
    students: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    records: list[PurgeRecord] = field(default_factory=list)


def _prune_import_errors(jobs, local_ids: set[str]) -> int:
    """Drop error rows that quote a purged local ID; answer how many rows were dropped."""
    dropped = 0
    changed = []
    for job in jobs:
        kept = [
            e for e in job.errors if not any(lid in str(e.get("message", "")) for lid in local_ids)
        ]
        if len(kept) != len(job.errors):
            dropped += len(job.errors) - len(kept)
            job.errors = kept
            changed.append(job)
    if changed:
        ImportJob.objects.bulk_update(changed, ["errors"])
    return dropped


def _purge_students(students, *, district: District, by=None) -> tuple[int, dict[str, int]]:
    """Remove the given students' rows (a Student queryset); answer (students, counts)."""
    rows = list(students.values_list("pk", "local_id"))
    ids = [pk for pk, _ in rows]
    counts: dict[str, int] = {}
    if not ids:
        return 0, counts
    counts["equity.device (back in stock)"] = devices_release(student_ids=ids, by=by)
    assignments = Assignment.objects.filter(student_id__in=ids)
    counts["equity.charge"] = Charge.objects.filter(student_id__in=ids).delete()[0]
    counts["equity.acceptance"] = Acceptance.objects.filter(
        assignment__in=assignments.values("pk")
    ).delete()[0]
    counts["equity.assignment"] = assignments.delete()[0]
    # DeviceEvent.save() refuses rewrites; a purge is the one sanctioned exception, and
    # update() is a single statement that does not go through save().
    counts["equity.deviceevent (student removed)"] = DeviceEvent.objects.filter(
        student_id__in=ids
    ).update(student=None, note="", place="")
    counts["equity.importjob errors"] = _prune_import_errors(
        ImportJob.objects.filter(school__district=district, kind=ImportJob.Kind.STUDENTS),
        {lid for _, lid in rows},
    )
    counts["equity.student"] = Student.objects.filter(pk__in=ids).delete()[0]
    evidence_changed.send(sender=Student, district_ids={district.pk})
    return len(ids), counts


def _school_extras(school: School) -> dict[str, int]:
    counts = {}
    counts["equity.importjob"] = ImportJob.objects.filter(
        school=school, kind=ImportJob.Kind.STUDENTS
    ).delete()[0]
    links = Invitation.objects.filter(
        survey__schools=school, kind=InvitationKind.PERSON, audience=Audience.STUDENTS
    )
    link_ids = list(links.values_list("pk", flat=True))
    counts["stakeholders.personresponse"] = PersonResponse.objects.filter(
        invitation_id__in=link_ids
    ).delete()[0]
    counts["stakeholders.invitation (name and e-mail cleared)"] = (
        Invitation.objects.filter(pk__in=link_ids)
        .exclude(name="", email="")
        .update(name="", email="")
    )
    return counts


def _finish(*, district, school, scope, by, by_label, students, counts) -> PurgeRecord:
    purge = PurgeRecord.objects.create(
        district=district,
        school=school,
        scope=scope,
        by=by,
        by_label=by_label,
        students=students,
        counts={k: v for k, v in counts.items() if v},
    )
    record(
        Kind.PURGE,
        user=by,
        district=district,
        school=school,
        obj=purge,
        detail=f"{scope}: {students} students",
    )
    return purge


def purge_school(school: School, *, by=None, by_label: str = "") -> PurgeResult:
    """Every student of ``school`` and what hangs on them; one transaction."""
    with outside_scope(), transaction.atomic():
        students, counts = _purge_students(
            Student.objects.filter(school=school), district=school.district, by=by
        )
        counts.update(_school_extras(school))
        purge = _finish(
            district=school.district,
            school=school,
            scope=f"school:{school.code}",
            by=by,
            by_label=by_label,
            students=students,
            counts=counts,
        )
    return PurgeResult(students, purge.counts, [purge])


def purge_student(student: Student, *, by=None, by_label: str = "") -> PurgeResult:
    """One student and what hangs on them. The record keeps the school, not the ID."""
    with outside_scope(), transaction.atomic():
        school = student.school
        students, counts = _purge_students(
            Student.objects.filter(pk=student.pk), district=school.district, by=by
        )
        purge = _finish(
            district=school.district,
            school=school,
            scope="student",
            by=by,
            by_label=by_label,
            students=students,
            counts=counts,
        )
    return PurgeResult(students, purge.counts, [purge])


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def due_for_retention(district: District, years: int, today: date | None = None):
    """The district's students who left more than ``years`` years ago."""
    cutoff = years_before(today or timezone.localdate(), years)
    return Student.objects.filter(
        Q(district=district), active=False, left_on__isnull=False, left_on__lt=cutoff
    )


def apply_retention(today: date | None = None) -> PurgeResult:
    """Purge, per district with a rule, the students past it; one transaction per district.

    Run nightly by Celery beat (``audit.tasks.apply_retention``). A district with nothing
    due gets no record, so the log is not filled with empty purges.
    """
    result = PurgeResult()
    with outside_scope():
        rules = list(
            Retention.objects.filter(years_after_leaving__isnull=False).select_related("district")
        )
        for rule in rules:
            with transaction.atomic():
                due = due_for_retention(rule.district, rule.years_after_leaving, today)
                students, counts = _purge_students(due, district=rule.district)
                if not students:
                    continue
                purge = _finish(
                    district=rule.district,
                    school=None,
                    scope=f"retention:{rule.years_after_leaving}y",
                    by=None,
                    by_label="retention task",
                    students=students,
                    counts=counts,
                )
            result.students += students
            result.records.append(purge)
            for key, value in purge.counts.items():
                result.counts[key] = result.counts.get(key, 0) + value
    return result
