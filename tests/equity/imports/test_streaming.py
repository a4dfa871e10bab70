"""The imports' shape at scale: memory stays flat as the file grows, and the COPY write path
(ids from the sequence, history in the same pass, changes through one temp-table UPDATE)
stores exactly what the file says, on SQLite here and on PostgreSQL with DATABASE_URL.

Timings belong to ``python -m bench.imports``, never to a test.
"""

import csv
import io
import tracemalloc
from datetime import date

import pytest
from django.db import IntegrityError, connection

from equity.imports import importer
from equity.imports.devices import import_devices
from equity.imports.students import import_students
from equity.inventory.models import Device, DeviceEvent, DeviceModel, EventKind, Student
from tests.factories import DeviceFactory, DeviceModelFactory, StudentFactory, UserFactory

HEADER = [
    "asset_tag",
    "serial_number",
    "maker",
    "model",
    "kind",
    "touchscreen",
    "school",
    "status",
    "purchase_date",
    "funding_source",
    "unit_price",
    "auto_update_expiration",
    "notes",
]
DEFAULT_ROWS = 600


def device_file(n: int, start: int = 0) -> bytes:
    """``n`` rows with every column filled, as a district's spreadsheet fills them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    models = [
        ("Acer", "Chromebook Spin 512", "chromebook", "yes", "289.00", "2029-06"),
        ("Lenovo", "100e Chromebook Gen 4", "chromebook", "no", "249.00", "2032-06"),
    ]
    for i in range(start, start + n):
        maker, name, kind, touch, price, aue = models[i % 2]
        writer.writerow(
            [
                f"RB-{i:07d}",
                f"5CD{i:07d}",
                maker,
                name,
                kind,
                touch,
                ("MAPLE", "CEDAR")[i % 2],
                ("in_stock", "in_repair", "Lost")[i % 3],
                f"{1 + i % 12}/{1 + i % 28}/{2020 + i % 5}",
                ("Title I", "general_fund", "")[i % 3],
                price,
                aue,
                f"cart {i % 40}" if i % 4 else "",
            ]
        )
    return out.getvalue().encode()


def peak_bytes(content: bytes, district) -> int:
    """Peak Python allocations while importing (the file's own bytes are not counted)."""
    source = io.BytesIO(content)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = import_devices(source, district=district)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok, result.errors[:3]
    return peak


def test_memory_stays_flat_on_a_file_ten_times_larger(district, maple, cedar, monkeypatch):
    # Batches as large as the default file, so both runs hold full batches: what is left to
    # grow is only the keys kept to find duplicates inside the file.
    monkeypatch.setattr(importer, "LOOKUP_BATCH", DEFAULT_ROWS // 2)
    monkeypatch.setattr(importer, "WRITE_BATCH", DEFAULT_ROWS // 2)
    peak_bytes(device_file(20, start=10**6), district)  # what a process sets up once
    small = peak_bytes(device_file(DEFAULT_ROWS), district)
    large = peak_bytes(device_file(10 * DEFAULT_ROWS, start=DEFAULT_ROWS), district)
    assert Device.objects.count() == 20 + 11 * DEFAULT_ROWS
    # Holding the parsed rows would cost more than a kilobyte a row (the importer before it
    # streamed its writes grew 1.3 KB a row); the keys cost under a third of that.
    per_extra_row = (large - small) / (9 * DEFAULT_ROWS)
    assert per_extra_row < 350, (small, large)
    assert large < 4 * small, (small, large)


def test_new_devices_are_written_with_reserved_ids_and_their_history(district, maple, cedar):
    person = UserFactory()
    before = Device.objects.count()
    result = import_devices(io.BytesIO(device_file(30)), district=district, user=person)

    assert result.ok and result.created == 30
    devices = list(Device.objects.order_by("asset_tag"))
    assert len(devices) == before + 30
    first = devices[0]
    assert (first.asset_tag, first.serial_number, first.maker, first.school) == (
        "RB-0000000",
        "5CD0000000",
        "Acer",
        maple,
    )
    assert (first.status, first.purchase_date, first.funding_source, first.notes) == (
        "in_stock",
        date(2020, 1, 1),
        "title_i",
        "",
    )
    assert first.district_id == district.pk and first.created_at and first.updated_at
    assert devices[2].status == "lost" and devices[1].notes == "cart 1"
    events = DeviceEvent.objects.filter(kind=EventKind.CREATED)
    assert events.count() == 30
    assert set(events.values_list("by", flat=True)) == {person.pk}
    assert {e.device_id: e.school_id for e in events} == {d.pk: d.school_id for d in devices}
    catalog = DeviceModel.objects.get(name="Chromebook Spin 512")
    assert (catalog.kind, catalog.touchscreen, str(catalog.unit_price)) == (
        "chromebook",
        True,
        "289.00",
    )
    assert catalog.auto_update_expiration == date(2029, 6, 30)
    # A second import in the same connection works: the temp table is gone.
    again = import_devices(io.BytesIO(device_file(30)), district=district)
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 30)


def test_changed_devices_are_updated_in_one_statement_and_moves_recorded(
    district, maple, cedar, django_assert_max_num_queries
):
    model = DeviceModelFactory(district=district, maker="Acer", name="Chromebook Spin 512")
    kept = DeviceFactory(school=maple, model=model, asset_tag="RB-0000000", notes="old")
    moved = DeviceFactory(school=maple, model=model, asset_tag="RB-0000001", notes="")
    untouched = DeviceFactory(school=maple, model=model, asset_tag="ZZ-1", notes="stays")
    stamp = untouched.updated_at
    content = device_file(4).replace(b"5CD0000000", kept.serial_number.encode())
    content = content.replace(b"5CD0000001", moved.serial_number.encode())

    result = import_devices(io.BytesIO(content), district=district)

    assert result.ok and (result.created, result.updated) == (2, 2), result.errors
    kept.refresh_from_db()
    moved.refresh_from_db()
    untouched.refresh_from_db()
    assert (kept.school, kept.notes, kept.purchase_date) == (maple, "old", date(2020, 1, 1))
    assert kept.funding_source == "title_i" and kept.updated_at > stamp
    assert kept.status == "in_stock"  # statuses of existing devices are never imported
    assert (moved.school, moved.notes, moved.funding_source) == (cedar, "cart 1", "general_fund")
    assert moved.status != "in_repair"
    assert (untouched.notes, untouched.updated_at) == ("stays", stamp)
    move = DeviceEvent.objects.get(device=moved, kind=EventKind.MOVED)
    assert (move.school, move.note) == (maple, "to Cedar Middle (import)")
    table = f"{Device._meta.db_table}_import_changes"
    assert table not in connection.introspection.table_names(include_views=False)


def test_copy_stores_tabs_newlines_and_backslashes_as_written(district, maple):
    notes = 'Cart 3\tshelf "B"\\2\nback, left'
    content = device_file(1).replace(b'"', b"")
    rows = list(csv.reader(io.StringIO(content.decode())))
    rows[1][-1] = notes
    rows[1][0] = "RB\\7"
    out = io.StringIO()
    csv.writer(out).writerows(rows)

    result = import_devices(io.BytesIO(out.getvalue().encode()), district=district)

    assert result.ok, result.errors
    device = Device.objects.get()
    assert (device.asset_tag, device.notes) == ("RB\\7", notes)


def test_students_are_written_through_copy_and_updated_in_one_statement(district, maple, cedar):
    returning = StudentFactory(
        school=maple, local_id="S-1", grade=3, active=False, home_internet="no"
    )
    same = StudentFactory(school=maple, local_id="S-2", grade=4, home_internet="yes")
    stamp = same.updated_at
    roster = "student_id,school,grade,needs_touch,home_internet\n"
    roster += "S-1,CEDAR,7,yes,\nS-2,MAPLE,4,,yes\nS-3,MAPLE,K,1,unknown\nS-4,CEDAR,8,no,no\n"

    result = import_students(io.BytesIO(roster.encode()), district=district)

    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (2, 1, 1)
    returning.refresh_from_db()
    same.refresh_from_db()
    assert (returning.school, returning.grade, returning.needs_touch) == (cedar, 7, True)
    assert (returning.home_internet, returning.active) == ("no", True)
    assert same.updated_at == stamp
    new = Student.objects.get(local_id="S-3")
    assert (new.school, new.grade, new.needs_touch, new.home_internet) == (
        maple,
        0,
        True,
        "unknown",
    )
    assert (new.district_id, new.active, new.fee_waiver, new.homeroom) == (
        district.pk,
        True,
        False,
        "",
    )
    assert Student.objects.get(local_id="S-4").school == cedar
    table = f"{Student._meta.db_table}_import_changes"
    assert table not in connection.introspection.table_names(include_views=False)


@pytest.mark.parametrize("kind", ["devices", "students"])
def test_a_failure_in_the_final_update_leaves_nothing_written(
    district, maple, cedar, monkeypatch, kind
):
    from equity.inventory import fastwrite, staged

    def refuse(self, *args, **kwargs):
        raise IntegrityError("a concurrent writer")

    monkeypatch.setattr(fastwrite.ChangeTable, "apply", refuse)
    # The devices' staged path (PostgreSQL) has no final UPDATE: its writes are per part.
    monkeypatch.setattr(staged.DevicesStaged, "write_changes", refuse)
    if kind == "devices":
        result = import_devices(io.BytesIO(device_file(20)), district=district)
        written = Device.objects.count() + DeviceEvent.objects.count()
    else:
        roster = "student_id,school,grade\n" + "".join(f"S{i},MAPLE,2\n" for i in range(20))
        result = import_students(io.BytesIO(roster.encode()), district=district)
        written = Student.objects.count()
    assert [e.row for e in result.errors] == [0]
    assert written == 0
