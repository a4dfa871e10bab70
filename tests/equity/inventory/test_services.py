"""Device life cycle: every action validates first, writes a history event, and the
database refuses a second open assignment even when two check-outs race."""

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from equity.inventory import services
from equity.inventory.models import (
    Assignment,
    Circumstance,
    Device,
    DeviceEvent,
    DeviceStatus,
    EventKind,
    ReturnCondition,
)
from tests.factories import DeviceFactory, DeviceModelFactory, StudentFactory


@pytest.fixture
def device(maple):
    return DeviceFactory(school=maple)


@pytest.fixture
def student(maple):
    return StudentFactory(school=maple)


def kinds(device):
    return list(
        DeviceEvent.objects.filter(device=device)
        .order_by("at", "pk")
        .values_list("kind", flat=True)
    )


def test_check_out_and_in_records_each_step(device, student, tech):
    services.device_check_out(device=device, student=student, by=tech)
    device.refresh_from_db()
    assert device.status == DeviceStatus.ASSIGNED
    assignment = services.device_check_in(device=device, by=tech, condition=ReturnCondition.GOOD)
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK
    assert assignment.checked_in_at and assignment.condition_on_return == "good"
    assert kinds(device) == [EventKind.CHECK_OUT, EventKind.CHECK_IN]


def test_a_damaged_return_goes_to_repair(device, student, tech):
    services.device_check_out(device=device, student=student, by=tech)
    services.device_check_in(device=device, by=tech, condition=ReturnCondition.DAMAGED)
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_REPAIR
    assert kinds(device)[-1] == EventKind.REPAIR_SENT


def test_a_device_goes_out_once(device, student, maple, tech):
    services.device_check_out(device=device, student=student, by=tech)
    with pytest.raises(ValidationError) as exc:
        services.device_check_out(device=device, student=StudentFactory(school=maple), by=tech)
    assert "asset_tag" in exc.value.message_dict
    assert Assignment.objects.count() == 1


def test_a_student_holds_one_computer_and_one_hotspot(maple, student, tech):
    services.device_check_out(device=DeviceFactory(school=maple), student=student, by=tech)
    with pytest.raises(ValidationError) as exc:
        services.device_check_out(device=DeviceFactory(school=maple), student=student, by=tech)
    assert "student_id" in exc.value.message_dict
    hotspot = DeviceFactory(
        school=maple, model=DeviceModelFactory(district=maple.district, kind="hotspot")
    )
    services.device_check_out(device=hotspot, student=student, by=tech)
    assert Assignment.objects.filter(student=student, checked_in_at__isnull=True).count() == 2


def test_an_expired_device_cannot_go_out(maple, student, tech):
    old = DeviceModelFactory(
        district=maple.district, auto_update_expiration=date.today() - timedelta(days=1)
    )
    device = DeviceFactory(school=maple, model=old)
    with pytest.raises(ValidationError):
        services.device_check_out(device=device, student=student, by=tech)
    assert not DeviceEvent.objects.exists()


def test_a_device_cannot_go_to_a_student_of_another_school(device, cedar, tech):
    with pytest.raises(ValidationError):
        services.device_check_out(device=device, student=StudentFactory(school=cedar), by=tech)


@pytest.mark.parametrize("status", [s for s in DeviceStatus if s != DeviceStatus.IN_STOCK])
def test_only_a_device_in_stock_goes_out(maple, student, tech, status):
    device = DeviceFactory(school=maple, status=status)
    with pytest.raises(ValidationError):
        services.device_check_out(device=device, student=student, by=tech)


def test_a_loss_on_transit_ends_the_assignment_and_keeps_the_story(device, student, tech):
    services.device_check_out(device=device, student=student, by=tech)
    event = services.device_report_missing(
        device=device, by=tech, circumstance=Circumstance.LEFT_ON_TRANSIT, place="Bus 14"
    )
    device.refresh_from_db()
    assert device.status == DeviceStatus.LOST
    assert event.student == student and event.place == "Bus 14"
    assert not Assignment.objects.filter(checked_in_at__isnull=True).exists()
    services.device_recover(device=device, by=tech)
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK
    assert kinds(device) == [EventKind.CHECK_OUT, EventKind.LOST, EventKind.RECOVERED]


def test_a_loss_needs_a_circumstance(device, tech):
    with pytest.raises(ValidationError) as exc:
        services.device_report_missing(device=device, by=tech)
    assert "circumstance" in exc.value.message_dict
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK


def test_stolen_repair_and_return(device, tech):
    services.device_report_missing(device=device, by=tech, stolen=True, place="Gym")
    device.refresh_from_db()
    assert device.status == DeviceStatus.STOLEN
    services.device_recover(device=device, by=tech)
    services.device_send_to_repair(device=device, by=tech)
    with pytest.raises(ValidationError):
        services.device_send_to_repair(device=device, by=tech)
    services.device_return_from_repair(device=device, by=tech)
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK


def test_bulk_move_and_retire(maple, cedar, tech, student):
    a, b, busy = DeviceFactory.create_batch(3, school=maple)
    services.device_check_out(device=busy, student=student, by=tech)
    with pytest.raises(ValidationError):
        services.devices_move(devices=[a, busy], school=cedar, by=tech)
    assert Device.objects.filter(school=cedar).count() == 0  # nothing half done
    assert services.devices_move(devices=[a, b], school=cedar, by=tech) == 2
    assert Device.objects.filter(school=cedar).count() == 2
    assert services.devices_retire(devices=[a, b], by=tech, note="cracked hinges") == 2
    assert set(Device.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {
        "retired"
    }
    assert kinds(a) == [EventKind.MOVED, EventKind.ARRIVED, EventKind.RETIRED]


def test_bulk_move_stays_in_the_district(maple, elsewhere, tech):
    device = DeviceFactory(school=maple)
    with pytest.raises(ValidationError):
        services.devices_move(devices=[device], school=elsewhere, by=tech)


def test_history_is_never_rewritten(device, student, tech):
    services.device_check_out(device=device, student=student, by=tech)
    event = DeviceEvent.objects.get(device=device)
    event.note = "changed"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_check_outs_of_one_device_give_one_assignment(maple, tech):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent writers need PostgreSQL (CI runs it)")
    device = DeviceFactory(school=maple)
    students = StudentFactory.create_batch(2, school=maple)
    barrier = threading.Barrier(2)
    outcomes = []

    def check_out(student):
        from django.db import connections
        from django_scopes import scopes_disabled

        try:
            with scopes_disabled():
                barrier.wait()
                services.device_check_out(device=device, student=student, by=tech)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=check_out, args=(s,)) for s in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["ok", "refused"]
    assert Assignment.objects.filter(device=device, checked_in_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_itself_refuses_a_second_open_assignment(maple):
    from django.db import IntegrityError
    from django.utils import timezone

    device = DeviceFactory(school=maple)
    a, b = StudentFactory.create_batch(2, school=maple)
    Assignment.objects.create(device=device, student=a, checked_out_at=timezone.now())
    with pytest.raises(IntegrityError):
        Assignment.objects.create(device=device, student=b, checked_out_at=timezone.now())


def test_an_audit_records_each_device_once_and_flags_missing_ones(maple, cedar, tech):
    from django.utils import timezone

    here = DeviceFactory(school=maple, asset_tag="CB-AUD-1")
    lost = DeviceFactory(school=maple, asset_tag="CB-AUD-2", status=DeviceStatus.LOST)
    DeviceFactory(school=cedar, asset_tag="CB-AUD-3")
    since = timezone.now()
    scan = services.audit_scan(school=maple, asset_tag="cb-aud-1", since=since, by=tech)
    assert scan == ("seen", here)
    assert (
        services.audit_scan(school=maple, asset_tag="CB-AUD-1", since=since, by=tech).outcome
        == "again"
    )
    assert services.audit_scan(school=maple, asset_tag="CB-AUD-2", since=since, by=tech) == (
        "seen_missing",
        lost,
    )
    assert services.audit_scan(school=maple, asset_tag="CB-AUD-3", since=since, by=tech) == (
        "unknown",
        None,
    )
    assert DeviceEvent.objects.filter(kind=EventKind.AUDIT_SEEN).count() == 2
