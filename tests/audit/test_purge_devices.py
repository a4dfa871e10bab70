"""A purge frees the devices its students held, in the purge's own transaction: back in
stock, an event saying why that names no one, and the desk can check them out and in again.

Run without a wrapping test transaction (``transaction=True``), so each purge commits as it
does in production (on PostgreSQL in CI, where its row locks are real)."""

import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit import purge
from audit.models import PurgeRecord, Retention
from audit.tasks import apply_retention
from equity.inventory import services
from equity.inventory.models import (
    Assignment,
    Device,
    DeviceEvent,
    DeviceStatus,
    EventKind,
    Student,
)
from tests.factories import DeviceFactory, StudentFactory, UserFactory, open_assignment


def orphans():
    """Devices marked assigned that no open assignment holds: check-in refuses them."""
    held = Assignment.objects.filter(checked_in_at__isnull=True).values("device_id")
    return Device.objects.filter(status=DeviceStatus.ASSIGNED).exclude(pk__in=held)


def _one_student(maple, district):
    student = StudentFactory(school=maple, local_id="GONE-1")
    return lambda: call_command("purge_students", "--student", "GONE-1", stdout=StringIO()), [
        student
    ]


def _a_school(maple, district):
    students = StudentFactory.create_batch(3, school=maple)
    return lambda: call_command("purge_students", "--school", "MAPLE", stdout=StringIO()), students


def _the_retention_rule(maple, district):
    Retention.objects.create(district=district, years_after_leaving=1)
    long_ago = timezone.localdate() - timedelta(days=800)
    students = [StudentFactory(school=maple, active=False, left_on=long_ago)]
    return apply_retention.run, students


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("purging", [_one_student, _a_school, _the_retention_rule])
def test_each_purge_frees_the_devices_its_students_held(row_locks, maple, cedar, district, purging):
    desk = UserFactory(email="desk@maple.example.org")
    run, students = purging(maple, district)
    # Each purged student holds a device (a leaver may still have one out); one more
    # device is out with a student of another school, who stays.
    devices = [DeviceFactory(school=maple) for _ in students]
    for device, student in zip(devices, students, strict=True):
        enrolled = Student.objects.filter(pk=student.pk)
        enrolled.update(active=True)  # checked out while enrolled
        services.device_check_out(device=device, student=enrolled.get(), by=desk)
        enrolled.update(active=student.active)
    stays = open_assignment(cedar, by=desk)

    run()

    row_locks.assert_taken("equity.inventory.services:devices_release")
    assert not orphans().exists()
    for device in devices:
        device.refresh_from_db()
        assert device.status == DeviceStatus.IN_STOCK
        released = DeviceEvent.objects.get(device=device, kind=EventKind.RELEASED)
        assert released.student_id is None and "back in stock" in released.note
        assert released.school_id == maple.pk
        assert not DeviceEvent.objects.filter(device=device, student__isnull=False).exists()
    assert PurgeRecord.objects.get().counts["equity.device (back in stock)"] == len(devices)
    # The student who stays keeps their device.
    stays.device.refresh_from_db()
    assert stays.device.status == DeviceStatus.ASSIGNED
    # The desk hands each freed device out again and takes it back.
    for device in devices:
        newcomer = StudentFactory(school=maple)
        services.device_check_out(device=device, student=newcomer, by=desk)
        services.device_check_in(device=device, by=desk)
        device.refresh_from_db()
        assert device.status == DeviceStatus.IN_STOCK


@pytest.mark.django_db(transaction=True)
def test_a_purge_that_fails_frees_nothing(maple, monkeypatch):
    assignment = open_assignment(maple)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(purge, "_finish", boom)
    with pytest.raises(RuntimeError):
        purge.purge_student(assignment.student)
    assignment.device.refresh_from_db()
    assert assignment.device.status == DeviceStatus.ASSIGNED
    assert Assignment.objects.get(pk=assignment.pk).checked_in_at is None
    assert not DeviceEvent.objects.filter(kind=EventKind.RELEASED).exists()
    with pytest.raises(ValidationError):  # still out: not in stock
        services.device_check_out(
            device=assignment.device, student=StudentFactory(school=maple), by=None
        )


@pytest.mark.django_db
def test_the_migration_frees_devices_earlier_purges_left_assigned_to_nobody(maple):
    kept = open_assignment(maple)
    orphan = open_assignment(maple)
    # What a purge did before: the assignment deleted, the device left "assigned".
    Assignment.objects.filter(pk=orphan.pk).delete()
    assert list(orphans()) == [orphan.device]

    migration = importlib.import_module("equity.migrations.0007_device_released_event")
    migration.release_orphans(apps, None)

    assert not orphans().exists()
    orphan.device.refresh_from_db()
    kept.device.refresh_from_db()
    assert (orphan.device.status, kept.device.status) == ("in_stock", "assigned")
    event = DeviceEvent.objects.get(kind=EventKind.RELEASED)
    assert (event.device_id, event.student_id) == (orphan.device.pk, None)


@pytest.mark.django_db
def test_the_device_page_says_why_it_is_back_in_stock(login, district_admin, maple):
    assignment = open_assignment(maple, local_id="PURGED-77")
    purge.purge_student(assignment.student, by=district_admin)
    page = login(district_admin).get(reverse("equity:device_detail", args=[assignment.device.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Back in stock (holder&#x27;s record removed)" in html
    assert "PURGED-77" not in html
