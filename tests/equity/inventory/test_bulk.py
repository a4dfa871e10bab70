"""The inventory's set-based writes (equity.inventory.bulk) follow the one-device rules:
history events as devices_move writes them, the same move refusal, the same row checks as
device_create; blank roster cells keep what a student had. The importers write through
them (tests/equity/imports)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from equity.inventory import bulk, services
from equity.inventory.models import Device, DeviceEvent, DeviceStatus, EventKind, Student
from tests.factories import DeviceFactory, DeviceModelFactory, StudentFactory, open_assignment

pytestmark = pytest.mark.django_db


def row(tag, model, school, **fields):
    values = {
        "asset_tag": tag,
        "serial": f"SN-{tag}",
        "model_id": model.pk,
        "maker": model.maker,
        "school_id": school.pk if school else None,
        "status": None,
        "purchase_date": None,
        "funding_source": None,
        "notes": None,
        "aue": None,
    }
    values.update(fields)
    return bulk.DeviceUpsert(**values)


def test_new_devices_start_in_stock_with_an_added_event(district, maple, tech):
    model = DeviceModelFactory(district=district)
    bulk.devices_bulk_upsert(
        [row("B-1", model, maple), row("B-2", model, maple, status=DeviceStatus.IN_REPAIR)],
        district=district,
        by=tech,
    )
    one, two = Device.objects.filter(asset_tag__in=["B-1", "B-2"]).order_by("asset_tag")
    assert (one.status, two.status) == (DeviceStatus.IN_STOCK, DeviceStatus.IN_REPAIR)
    assert (one.school, one.maker, one.district) == (maple, model.maker, district)
    events = DeviceEvent.objects.filter(device__in=[one, two])
    assert (
        sorted(events.values_list("kind", "school_id", "by_id"))
        == [(EventKind.CREATED, maple.pk, tech.pk)] * 2
    )


def test_a_move_writes_the_same_two_events_as_devices_move(district, maple, cedar, tech):
    model = DeviceModelFactory(district=district)
    by_bulk, by_service = DeviceFactory.create_batch(2, school=maple, model=model)
    bulk.devices_bulk_upsert(
        [row(by_bulk.asset_tag, model, cedar, serial=by_bulk.serial_number, notes="Cart 2")],
        district=district,
        by=tech,
    )
    services.devices_move(devices=[by_service], school=cedar, by=tech)

    def story(device):
        return list(
            DeviceEvent.objects.filter(device=device)
            .order_by("pk")
            .values_list("kind", "school_id", "note")
        )

    assert (
        story(by_bulk)
        == story(by_service)
        == [
            (EventKind.MOVED, maple.pk, f"to {cedar.name}"),
            (EventKind.ARRIVED, cedar.pk, ""),
        ]
    )
    by_bulk.refresh_from_db()
    assert (by_bulk.school, by_bulk.notes) == (cedar, "Cart 2")


def test_blank_cells_keep_what_a_device_has(district, maple, tech):
    model = DeviceModelFactory(district=district)
    device = DeviceFactory(school=maple, model=model, notes="Library", funding_source="grant")
    bulk.devices_bulk_upsert(
        [row(device.asset_tag, model, None, serial=device.serial_number)],
        district=district,
        by=tech,
    )
    device.refresh_from_db()
    assert (device.school, device.notes, device.funding_source) == (maple, "Library", "grant")
    assert not DeviceEvent.objects.filter(device=device).exists()


def test_one_move_refusal_for_the_service_and_the_bulk_path(maple, cedar, tech):
    device = open_assignment(maple).device
    refusal = services.device_move_refusal(device.asset_tag, device.status)
    assert refusal == f"{device.asset_tag} is checked out; check it in before moving it"
    with pytest.raises(ValidationError) as caught:
        services.devices_move(devices=[device], school=cedar, by=tech)
    assert caught.value.messages == [f"{refusal}."]
    assert services.device_move_refusal("X", DeviceStatus.IN_STOCK) is None


def test_device_create_asks_the_same_row_checks_as_the_importer(district, maple, tech):
    model = DeviceModelFactory(district=district)
    assert services.device_row_problems(asset_tag="A", serial_number="S") == {}
    problems = services.device_row_problems(asset_tag="", serial_number="x" * 101)
    assert problems == {
        "serial_number": f'"{"x" * 101}" is longer than 100 characters',
        "asset_tag": "is blank; every device needs an asset tag",
    }
    with pytest.raises(ValidationError) as caught:
        services.device_create(
            school=maple, asset_tag="  ", serial_number="SN-1", model=model, by=tech
        )
    assert caught.value.message_dict == {
        "asset_tag": ["The asset tag is blank; every device needs an asset tag."]
    }
    assert not Device.objects.exists()


def test_students_blank_cells_keep_and_new_ones_get_the_defaults(district, maple, cedar):
    kept = StudentFactory(school=maple, local_id="K-1", grade=3, needs_touch=True)
    kept.home_internet = "no"
    kept.active = False
    kept.save()
    bulk.students_bulk_upsert(
        [
            bulk.StudentUpsert("K-1", None, 4, None, None),
            bulk.StudentUpsert("N-1", cedar.pk, 2, None, None),
            bulk.StudentUpsert("N-2", None, 1, True, "yes"),
        ],
        district=district,
        default_school=maple,
    )
    kept.refresh_from_db()
    assert (kept.school, kept.grade, kept.needs_touch, kept.home_internet, kept.active) == (
        maple,
        4,
        True,
        "no",
        True,
    )
    n1, n2 = Student.objects.filter(local_id__in=["N-1", "N-2"]).order_by("local_id")
    assert (n1.school, n1.needs_touch, n1.home_internet, n1.active) == (
        cedar,
        False,
        "unknown",
        True,
    )
    assert (n2.school, n2.needs_touch, n2.home_internet) == (maple, True, "yes")


@pytest.mark.django_db(transaction=True)
def test_the_writers_refuse_to_run_outside_a_transaction(district):
    with pytest.raises(RuntimeError, match="transaction.atomic"):
        bulk.StudentsBulkUpsert(district_id=district.pk, now=_now()).begin()
    with transaction.atomic():
        writer = bulk.StudentsBulkUpsert(district_id=district.pk, now=_now())
        writer.begin()
        writer.finish()


def _now():
    from django.utils import timezone

    return timezone.now()
