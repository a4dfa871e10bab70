"""purge_students and the retention rule: every student-linked row goes, devices stay."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit import purge
from audit.models import PurgeRecord, Retention
from audit.tasks import apply_retention
from core.models import AuditEvent, Kind
from equity.imports.models import ImportJob
from equity.inventory import services
from equity.inventory.models import Assignment, Device, DeviceEvent, Student
from equity.year import services as year_services
from equity.year.models import Acceptance, Charge
from stakeholders.models import Invitation, PersonResponse
from tests.factories import (
    DeviceAgreementFactory,
    DeviceFactory,
    InvitationFactory,
    PriceListEntryFactory,
    ResponseFactory,
    StudentFactory,
    SurveyFactory,
    open_assignment,
)

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def student_with_everything(school, principal, local_id):
    """A student holding a device, with a signed agreement, a charge and a lost device."""
    DeviceAgreementFactory(district=school.district)
    PriceListEntryFactory(district=school.district, kind="screen")
    assignment = open_assignment(school, by=principal, local_id=local_id)
    student = assignment.student
    year_services.accept_signed(assignment=assignment, signature=PNG, signer="student")
    year_services.charge_assess(
        device=assignment.device, student=student, kind="screen", by=principal, note="cracked"
    )
    services.device_check_in(device=assignment.device, by=principal)
    lost = open_assignment(school, by=principal, student=student)
    services.device_report_missing(
        device=lost.device, by=principal, circumstance="other", note="on the bus"
    )
    return student


def test_a_school_purge_removes_every_student_row_and_keeps_devices(maple, cedar, principal):
    gone = student_with_everything(maple, principal, "M-1")
    kept = open_assignment(cedar, local_id="C-1").student
    job = ImportJob.objects.create(school=maple, kind="students", errors=[{"message": "M-1"}])
    survey = SurveyFactory(schools=[maple], anonymous=False)
    link = InvitationFactory(
        survey=survey, kind="person", audience="students", name="Ana", email="ana@x.example"
    )
    PersonResponse.objects.create(
        invitation=link, response=ResponseFactory(survey=survey, audience="students")
    )
    devices = Device.objects.count()

    out = StringIO()
    call_command("purge_students", "--school", "MAPLE", stdout=out)

    assert not Student.objects.filter(school=maple).exists()
    assert not Assignment.objects.filter(student_id=gone.pk).exists()
    assert not Charge.objects.filter(student_id=gone.pk).exists()
    assert not Acceptance.objects.filter(assignment__device__school=maple).exists()
    assert not DeviceEvent.objects.filter(student_id=gone.pk).exists()
    assert not ImportJob.objects.filter(pk=job.pk).exists()
    assert not PersonResponse.objects.exists()
    link.refresh_from_db()
    assert (link.name, link.email) == ("", "")
    # Devices and their history stay, without the student and without desk notes.
    assert Device.objects.count() == devices
    lost_event = DeviceEvent.objects.get(kind="lost")
    assert lost_event.student_id is None and lost_event.note == ""
    assert DeviceEvent.objects.filter(kind="check_out", school=maple).count() == 2
    # Another school is untouched.
    assert Student.objects.filter(pk=kept.pk).exists()
    assert Assignment.objects.filter(student=kept).exists()
    # The record says what was done and names no one.
    record = PurgeRecord.objects.get()
    assert record.scope == "school:MAPLE" and record.students == 1
    assert record.counts["equity.assignment"] == 2 and record.counts["equity.charge"] == 1
    assert "M-1" not in str(record.counts) and "M-1" not in out.getvalue()
    event = AuditEvent.objects.get(kind=Kind.PURGE)
    assert "M-1" not in event.detail


def test_a_student_purge_takes_one_student_and_prunes_import_errors(maple, principal):
    gone = student_with_everything(maple, principal, "M-7")
    other = StudentFactory(school=maple, local_id="M-8")
    job = ImportJob.objects.create(
        school=maple,
        kind="students",
        errors=[{"row": 2, "message": "M-7 is listed twice"}, {"row": 3, "message": "M-8 bad"}],
    )
    call_command("purge_students", "--student", "M-7", stdout=StringIO())
    assert not Student.objects.filter(pk=gone.pk).exists()
    assert Student.objects.filter(pk=other.pk).exists()
    job.refresh_from_db()
    assert job.errors == [{"row": 3, "message": "M-8 bad"}]
    record = PurgeRecord.objects.get()
    assert record.scope == "student" and record.school == maple


def test_an_unknown_target_removes_nothing(maple):
    StudentFactory(school=maple)
    with pytest.raises(CommandError, match="nothing was removed"):
        call_command("purge_students", "--school", "NOPE")
    with pytest.raises(CommandError):
        call_command("purge_students", "--student", "no-such-id")
    assert Student.objects.count() == 1 and not PurgeRecord.objects.exists()


def test_a_failure_part_way_leaves_everything(maple, principal, monkeypatch):
    student_with_everything(maple, principal, "M-2")
    before = (Student.objects.count(), Assignment.objects.count(), Charge.objects.count())

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(purge, "_finish", boom)
    with pytest.raises(RuntimeError):
        purge.purge_school(maple)
    after = (Student.objects.count(), Assignment.objects.count(), Charge.objects.count())
    assert after == before
    assert DeviceEvent.objects.filter(student__isnull=False).exists()


def test_retention_purges_only_students_who_left_long_enough_ago(maple, district, elsewhere):
    Retention.objects.create(district=district, years_after_leaving=3)
    old = StudentFactory(school=maple, active=False, left_on=date(2022, 6, 1))
    recent = StudentFactory(school=maple, active=False, left_on=date(2024, 6, 1))
    current = StudentFactory(school=maple)
    no_rule = StudentFactory(school=elsewhere, active=False, left_on=date(2010, 6, 1))
    result = purge.apply_retention(today=date(2026, 1, 15))
    remaining = set(Student.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert {recent.pk, current.pk, no_rule.pk} <= remaining
    assert result.students == 1
    record = PurgeRecord.objects.get()
    assert record.scope == "retention:3y" and record.by_label == "retention task"
    # Running again finds nothing and writes no empty record.
    assert purge.apply_retention(today=date(2026, 1, 15)).students == 0
    assert PurgeRecord.objects.count() == 1


def test_the_retention_task_runs_and_is_on_the_beat_schedule(settings, maple, district):
    Retention.objects.create(district=district, years_after_leaving=1)
    StudentFactory(school=maple, active=False, left_on=date(2000, 1, 1))
    assert apply_retention.delay().get() == 1
    schedule = settings.CELERY_BEAT_SCHEDULE["apply-student-retention"]
    assert schedule["task"] == "audit.tasks.apply_retention"


def test_the_district_admin_sets_the_rule_and_sees_purges(login, district_admin, district, maple):
    StudentFactory(school=maple, active=False, left_on=date(2001, 1, 1))
    client = login(district_admin)
    url = reverse("audit:privacy", args=[district.pk])
    bad = client.post(url, {"years_after_leaving": "99"})
    assert bad.status_code == 200 and not Retention.objects.exists()
    assert client.post(url, {"years_after_leaving": "5"}).status_code == 302
    assert Retention.objects.get(district=district).years_after_leaving == 5
    page = client.get(url).content.decode()
    assert "1 student left longer ago" in page
    purge.purge_school(maple, by=district_admin)
    assert "school:MAPLE" in client.get(url).content.decode()
    assert AuditEvent.objects.filter(kind=Kind.RETENTION).count() == 1


def test_unchanged_devices_of_a_purged_school_still_count(maple):
    DeviceFactory(school=maple)
    purge.purge_school(maple)
    assert Device.objects.filter(school=maple).count() == 1
    assert Invitation.objects.count() == 0
