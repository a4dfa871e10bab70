"""The inventory services that lock rows, called directly without pytest-django's wrapping
transaction: on PostgreSQL (CI) a lock outside ``transaction.atomic`` raises, and the
``row_locks`` fixture refuses one on any database (tests/test_row_locks.py lists these)."""

import pytest
from django.core.exceptions import ValidationError

from equity.inventory import services
from equity.inventory.models import Assignment, Device, DeviceEvent, DeviceStatus, EventKind
from tests.factories import DeviceFactory, StudentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _kinds(device):
    return list(
        DeviceEvent.objects.filter(device=device)
        .order_by("at", "pk")
        .values_list("kind", flat=True)
    )


def test_it_checks_a_device_out_and_in(row_locks, cedar, tech):
    device = DeviceFactory(school=cedar)
    student = StudentFactory(school=cedar)
    assignment = services.device_check_out(device=device, student=student, by=tech)
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.ASSIGNED
    with pytest.raises(ValidationError):  # refused under the same lock, nothing written
        services.device_check_out(device=device, student=StudentFactory(school=cedar), by=tech)

    services.device_check_in(device=device, by=tech, condition="good")

    assignment.refresh_from_db()
    assert assignment.checked_in_at is not None and assignment.checked_in_by == tech
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_STOCK
    assert _kinds(device) == [EventKind.CHECK_OUT, EventKind.CHECK_IN]
    assert Assignment.objects.count() == 1
    row_locks.assert_taken("equity.inventory.services:device_check_out")
    row_locks.assert_taken("equity.inventory.services:device_check_in")


def test_it_reports_a_device_missing_and_recovers_it(row_locks, cedar, tech):
    device = DeviceFactory(school=cedar)
    services.device_check_out(device=device, student=StudentFactory(school=cedar), by=tech)

    services.device_report_missing(device=device, by=tech, stolen=True)
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.STOLEN
    assert not Assignment.objects.filter(checked_in_at__isnull=True).exists()
    services.device_recover(device=device, by=tech, note="Found in the gym")

    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_STOCK
    assert _kinds(device) == [EventKind.CHECK_OUT, EventKind.STOLEN, EventKind.RECOVERED]
    row_locks.assert_taken("equity.inventory.services:device_report_missing")
    row_locks.assert_taken("equity.inventory.services:device_recover")


def test_it_sends_a_device_to_repair_and_back(row_locks, cedar, tech):
    device = DeviceFactory(school=cedar)

    services.device_send_to_repair(device=device, by=tech, note="Cracked hinge")
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_REPAIR
    services.device_return_from_repair(device=device, by=tech)

    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_STOCK
    assert _kinds(device) == [EventKind.REPAIR_SENT, EventKind.REPAIR_RETURNED]
    row_locks.assert_taken("equity.inventory.services:device_send_to_repair")
    row_locks.assert_taken("equity.inventory.services:device_return_from_repair")


def test_it_moves_and_retires_devices_in_bulk(row_locks, cedar, maple, tech):
    devices = DeviceFactory.create_batch(3, school=cedar)
    busy = DeviceFactory(school=cedar)
    services.device_check_out(device=busy, student=StudentFactory(school=cedar), by=tech)

    assert services.devices_move(devices=devices, school=maple, by=tech) == 3
    with pytest.raises(ValidationError):  # a checked-out device refuses the whole batch
        services.devices_retire(devices=[*devices, busy], by=tech)
    assert not Device.objects.filter(status=DeviceStatus.RETIRED).exists()
    assert services.devices_retire(devices=devices, by=tech, note="End of life") == 3

    moved = Device.objects.filter(pk__in=[d.pk for d in devices])
    assert set(moved.values_list("school", "status")) == {(maple.pk, DeviceStatus.RETIRED)}
    assert DeviceEvent.objects.filter(kind=EventKind.MOVED).count() == 3
    row_locks.assert_taken("equity.inventory.services:devices_move")
    row_locks.assert_taken("equity.inventory.services:devices_retire")
