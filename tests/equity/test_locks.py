"""The equity services that lock rows, called directly without pytest-django's wrapping
transaction: on PostgreSQL (CI) a lock outside ``transaction.atomic`` raises, and the
``row_locks`` fixture refuses one on any database (tests/test_row_locks.py lists these)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from equity import services, year
from equity.models import (
    Acceptance,
    AcceptanceMethod,
    Assignment,
    Charge,
    ChargeStatus,
    Device,
    DeviceEvent,
    DeviceStatus,
    EventKind,
    PriceListEntry,
)
from tests.factories import DeviceAgreementFactory, DeviceFactory, StudentFactory

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


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
    row_locks.assert_taken("equity.services:device_check_out")
    row_locks.assert_taken("equity.services:device_check_in")


def test_it_reports_a_device_missing_and_recovers_it(row_locks, cedar, tech):
    device = DeviceFactory(school=cedar)
    services.device_check_out(device=device, student=StudentFactory(school=cedar), by=tech)

    services.device_report_missing(device=device, by=tech, stolen=True)
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.STOLEN
    assert not Assignment.objects.filter(checked_in_at__isnull=True).exists()
    services.device_recover(device=device, by=tech, note="Found in the gym")

    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_STOCK
    assert _kinds(device) == [EventKind.CHECK_OUT, EventKind.STOLEN, EventKind.RECOVERED]
    row_locks.assert_taken("equity.services:device_report_missing")
    row_locks.assert_taken("equity.services:device_recover")


def test_it_sends_a_device_to_repair_and_back(row_locks, cedar, tech):
    device = DeviceFactory(school=cedar)

    services.device_send_to_repair(device=device, by=tech, note="Cracked hinge")
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_REPAIR
    services.device_return_from_repair(device=device, by=tech)

    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_STOCK
    assert _kinds(device) == [EventKind.REPAIR_SENT, EventKind.REPAIR_RETURNED]
    row_locks.assert_taken("equity.services:device_send_to_repair")
    row_locks.assert_taken("equity.services:device_return_from_repair")


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
    row_locks.assert_taken("equity.services:devices_move")
    row_locks.assert_taken("equity.services:devices_retire")


def test_it_accepts_an_agreement_signed_or_by_link(row_locks, cedar, tech):
    DeviceAgreementFactory(district=cedar.district)
    signed = services.device_check_out(
        device=DeviceFactory(school=cedar), student=StudentFactory(school=cedar), by=tech
    )
    by_link = services.device_check_out(
        device=DeviceFactory(school=cedar), student=StudentFactory(school=cedar), by=tech
    )

    year.accept_signed(assignment=signed, signature=PNG, signer="student")
    with pytest.raises(ValidationError):
        year.accept_signed(assignment=signed, signature=PNG, signer="student")
    token = year.acceptance_for(by_link).token
    year.accept_by_link(token=token, signer="family")
    year.accept_by_link(token=token, signer="family")  # a second click changes nothing

    rows = Acceptance.objects.order_by("pk").values_list("method", "signer")
    assert list(rows) == [(AcceptanceMethod.SIGNED, "student"), (AcceptanceMethod.LINK, "family")]
    row_locks.assert_taken("equity.year:accept_signed")
    row_locks.assert_taken("equity.year:accept_by_link")


def test_it_sets_a_price_and_resolves_a_charge(row_locks, cedar, tech):
    year.set_price(district=cedar.district, kind="screen", amount=Decimal("40"))
    year.set_price(district=cedar.district, kind="screen", amount=Decimal("45"))
    assert list(PriceListEntry.objects.values_list("amount", flat=True)) == [Decimal("45")]
    device = DeviceFactory(school=cedar)
    student = StudentFactory(school=cedar)
    charge = year.charge_assess(device=device, student=student, kind="screen", by=tech)

    year.charge_resolve(charge=charge, status=ChargeStatus.PAID, by=tech, note="Cash")
    with pytest.raises(ValidationError):
        year.charge_resolve(charge=charge, status=ChargeStatus.WAIVED, by=tech)

    charge = Charge.objects.get()
    assert (charge.amount, charge.status, charge.resolution_note) == (
        Decimal("45"),
        ChargeStatus.PAID,
        "Cash",
    )
    row_locks.assert_taken("equity.year:set_price")
    row_locks.assert_taken("equity.year:charge_resolve")
