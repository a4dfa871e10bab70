"""import_devices: formats, encodings, all-or-nothing, upserts, district-wide uniqueness.

Why one long module: the device importer's cases, one section per kind of file a district
uploads (our columns, a Google Admin export, encodings, upserts, uniqueness), sharing the
row builders at the top.
"""

import csv
import io
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from equity.imports import importer
from equity.imports.devices import DeviceImporter, import_devices
from equity.imports.readers import GOOGLE_ADMIN, PILLARWISE
from equity.inventory.models import (
    Assignment,
    Device,
    DeviceEvent,
    DeviceModel,
    DeviceStatus,
    EventKind,
)
from tests.factories import (
    DeviceFactory,
    DeviceModelFactory,
    DistrictFactory,
    SchoolFactory,
    StudentFactory,
)

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = ["asset_tag", "serial_number", "model", "school", "notes"]


def csv_bytes(rows, header=HEADER, delimiter=",", encoding="utf-8"):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def rows_for(n, start=0, school="MAPLE", model="Acer Chromebook Spin 512"):
    return [[f"RB-{i:06d}", f"SN{i:08d}", model, school, ""] for i in range(start, start + n)]


def run(content, district, **kwargs):
    return import_devices(io.BytesIO(content), district=district, **kwargs)


def snapshot():
    return (
        Device.objects.count(),
        DeviceModel.objects.count(),
        DeviceEvent.objects.count(),
        list(Device.objects.order_by("pk").values_list("school_id", "serial_number", "notes")),
    )


# --- formats ----------------------------------------------------------------------------


def test_the_pillarwise_file_creates_devices_catalog_entries_and_history(district, maple, cedar):
    result = run((FIXTURES / "devices_pillarwise.csv").read_bytes(), district)

    assert result.ok, result.errors
    assert (result.rows, result.created, result.updated) == (5, 5, 0)
    assert result.summary == "Imported 5 devices (5 created, 0 updated)"
    assert result.format == PILLARWISE
    spin = DeviceModel.objects.get(maker="Acer", name="Chromebook Spin 512")
    assert spin.district == district and spin.touchscreen
    assert spin.unit_price == Decimal("389.00")
    assert spin.auto_update_expiration == date(2031, 6, 30)  # a month means its last day
    assert DeviceModel.objects.get(maker="Kajeet").kind == "hotspot"
    assert DeviceModel.objects.get(maker="HP").unit_price == Decimal("299.00")

    hp = Device.objects.get(asset_tag="RB-10003")
    assert (hp.school, hp.status, hp.maker, hp.district) == (cedar, "in_repair", "HP", district)
    assert hp.notes == "Hinge cracked, sent to depot"
    assert hp.funding_source == "e_rate" and hp.purchase_date == date(2023, 7, 30)
    lenovo = Device.objects.get(asset_tag="RB-10004")
    assert lenovo.school == cedar  # named by its name, not its code
    assert lenovo.purchase_date == date(2023, 8, 1)  # US month/day/year
    assert lenovo.model.auto_update_expiration == date(2030, 6, 30)

    events = DeviceEvent.objects.filter(kind=EventKind.CREATED)
    assert events.count() == 5
    assert {(e.device.asset_tag, e.school_id) for e in events} == {
        (d.asset_tag, d.school_id) for d in Device.objects.all()
    }


def test_the_admin_console_export_is_read_with_googles_statuses_and_places(district, maple, cedar):
    result = run((FIXTURES / "google_admin_console.csv").read_bytes(), district)

    assert result.ok, result.errors
    assert result.format == "google-admin (Admin console)"
    assert result.created == 4
    by_serial = {d.serial_number: d for d in Device.objects.select_related("model")}
    first = by_serial["NXHPQAA00311"]
    assert (first.asset_tag, first.school, first.status) == ("RB-20001", maple, "in_stock")
    assert (first.model.maker, first.model.name) == ("Acer", "Chromebook Spin 512")
    assert first.model.kind == "chromebook"
    assert first.model.auto_update_expiration == date(2031, 6, 30)
    assert by_serial["NXHPQAA00312"].notes == "Cart B"
    deprovisioned = by_serial["5CD2141XZZ"]
    assert (deprovisioned.school, deprovisioned.status) == (cedar, "retired")
    disabled = by_serial["5CD2141XZY"]
    assert disabled.asset_tag == "5CD2141XZY"  # no Asset ID: the serial is the tag
    assert disabled.school == cedar  # org unit names no school; Location "CEDAR" does
    assert disabled.status == "retired"
    # The device's user is a person's account: not read, nowhere stored.
    assert "User" in result.ignored_columns
    assert not Device.objects.filter(notes__contains="stu40412").exists()


def test_the_gam_csv_is_read_and_its_extra_columns_ignored(district, maple, cedar):
    result = run((FIXTURES / "gam_cros.csv").read_bytes(), district)

    assert result.ok, result.errors
    assert result.format == "google-admin (GAM)"
    assert result.ignored_columns == [
        "deviceId",
        "annotatedUser",
        "lastSync",
        "osVersion",
        "macAddress",
        "bootMode",
    ]
    devices = {d.asset_tag: d for d in Device.objects.all()}
    assert devices["RB-30001"].school == cedar  # /Students/Cedar Middle/Grade 6
    assert devices["RB-30002"].notes == "Spare"
    assert (devices["RB-30003"].school, devices["RB-30003"].status) == (maple, "retired")
    model = DeviceModel.objects.get()
    assert (model.maker, model.name) == ("Lenovo", "100e Chromebook Gen 3")
    assert model.auto_update_expiration == date(2030, 6, 30)


def test_headers_match_without_regard_to_case_spaces_or_underscores(district, maple):
    header = ["Asset Tag", "SERIAL-NUMBER", " Model ", "School"]
    result = run(csv_bytes([["T-1", "S-1", "Dell Chromebook 3100", "maple"]], header), district)
    assert result.ok, result.errors
    assert Device.objects.get().school == maple


def test_a_google_file_without_a_place_goes_to_the_chosen_school(district, maple, cedar):
    header = ["serialNumber", "model", "orgUnitPath"]
    content = csv_bytes([["S-9", "Dell Chromebook 3100", "/Students/Grade 5"]], header)

    without = run(content, district)
    assert [(e.row, e.column) for e in without.errors] == [(2, "orgUnitPath")]
    assert '"/Students/Grade 5" names no school of the district' in without.errors[0].message

    with_school = run(content, district, default_school=cedar)
    assert with_school.ok
    assert Device.objects.get().school == cedar


def test_an_explicit_format_overrides_detection(district, maple, cedar):
    content = (FIXTURES / "gam_cros.csv").read_bytes()
    result = run(content, district, default_school=maple, fmt=PILLARWISE)
    assert [str(e) for e in result.errors] == [
        'row 1, column asset_tag: the file has no "asset_tag" column (a required column)'
    ]
    assert run(content, district, fmt=GOOGLE_ADMIN).ok


def test_a_missing_required_column_is_one_clear_error(district, maple):
    header = ["asset_tag", "model", "school"]
    content = csv_bytes([["T-1", "Acer C1", "MAPLE"], ["T-2", "Acer C1", "MAPLE"]], header)

    result = run(content, district)

    assert result.error_count == 1
    (error,) = result.errors
    assert (error.row, error.column) == (1, "serial_number")
    assert error.message == 'the file has no "serial_number" column (a required column)'
    assert Device.objects.count() == 0


def test_the_school_column_is_required_only_without_a_default_school(district, maple):
    header = ["asset_tag", "serial_number", "model"]
    content = csv_bytes([["T-1", "S-1", "Acer C1"]], header)
    assert [e.column for e in run(content, district).errors] == ["school"]
    assert run(content, district, default_school=maple).ok
    assert Device.objects.get().school == maple


def test_an_empty_file_is_one_error(district):
    result = run(b"", district)
    assert [str(e) for e in result.errors] == [
        "row 1: the file is empty; the first line must name the columns"
    ]


# --- encodings and delimiters ---------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8"), ("cp1252", "Windows-1252")],
)
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_each_encoding_and_delimiter_is_read(district, maple, encoding, name, delimiter):
    rows = [
        ["RB-1", "SN-1", "Acer Chromebook Spin 512", "MAPLE", "Niño's cart, shelf 2"],
        ["RB-2", "SN-2", "Acer Chromebook Spin 512", "MAPLE", "Café – back room"],
    ]
    content = csv_bytes(rows, delimiter=delimiter, encoding=encoding)
    assert content.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")

    result = run(content, district)

    assert result.ok, result.errors
    assert (result.encoding, result.delimiter) == (name, delimiter)
    assert Device.objects.get(asset_tag="RB-1").notes == "Niño's cart, shelf 2"
    assert Device.objects.get(asset_tag="RB-2").notes == "Café – back room"


def test_a_semicolon_file_may_use_decimal_commas(district, maple):
    header = ["asset_tag", "serial_number", "model", "school", "unit_price"]
    content = csv_bytes([["RB-1", "SN-1", "Acer C1", "MAPLE", "249,99"]], header, ";")
    assert run(content, district).ok
    assert DeviceModel.objects.get().unit_price == Decimal("249.99")


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_one_error_naming_the_line(district):
    content = csv_bytes(rows_for(3)) + b"RB-9,SN-9,Acer C1,MAPLE,\x81\r\n"
    result = run(content, district)
    assert [(e.row, e.column) for e in result.errors] == [(5, "")]
    assert "neither UTF-8 nor Windows-1252" in result.errors[0].message


# --- all or nothing ----------------------------------------------------------------------


def _spoil(rows, i, kind):
    """Make row ``i`` bad in one way; the error must land on row i and nowhere else."""
    row = rows[i]
    if kind == "blank serial":
        row[1] = ""
    elif kind == "unknown school":
        row[3] = "NOWHERE"
    elif kind == "tag repeated":
        row[0] = rows[i - 1][0] if i else ""  # the later of two equal tags is the error
    elif kind == "serial used at Cedar":
        row[1] = "CEDAR-SERIAL"
    elif kind == "assigned status":
        row[5] = "assigned"
    elif kind == "bad date":
        row[6] = "31/31/2024"


BAD_KINDS = [
    "blank serial",
    "unknown school",
    "tag repeated",
    "serial used at Cedar",
    "assigned status",
    "bad date",
]


@pytest.mark.parametrize("seed", [7, 19, 42, 2024, 31337])
def test_one_bad_row_anywhere_means_nothing_is_written(district, maple, cedar, seed):
    rng = random.Random(seed)
    model = DeviceModelFactory(district=district, maker="Acer", name="Chromebook Spin 512")
    DeviceFactory(school=cedar, model=model, serial_number="CEDAR-SERIAL", asset_tag="C-1")
    existing = DeviceFactory(
        school=maple, model=model, asset_tag="RB-000003", serial_number="SN00000003", notes="old"
    )
    before = snapshot()

    header = [*HEADER, "status", "purchase_date"]
    rows = [[*row, "in_stock", "2024-08-01"] for row in rows_for(300)]
    rows[3][4] = "new notes"  # an update of `existing`, which must not happen either
    position = rng.randrange(len(rows))
    kind = rng.choice(BAD_KINDS)
    _spoil(rows, position, kind)

    result = run(csv_bytes(rows, header), district)

    assert not result.ok
    assert [e.row for e in result.errors] == [position + 2], (kind, result.errors)
    assert snapshot() == before
    existing.refresh_from_db()
    assert existing.notes == "old"


def test_a_failure_while_writing_rolls_every_batch_back(district, maple, monkeypatch):
    monkeypatch.setattr(importer, "WRITE_BATCH", 10)
    monkeypatch.setattr(importer, "STAGED_PART", 10)
    calls = []
    # Row by row (SQLite) the second pass writes each batch it reads; on PostgreSQL the
    # staged rows are written part by part (equity.inventory.staged).
    seam = "write_part" if connection.vendor == "postgresql" else "write"
    original = getattr(DeviceImporter, seam)

    def write(self, batch):
        calls.append(batch)
        if len(calls) == 3:  # two batches are already in the database
            raise IntegrityError("a concurrent writer took an asset tag")
        original(self, batch)

    monkeypatch.setattr(DeviceImporter, seam, write)
    before = snapshot()

    result = run(csv_bytes(rows_for(45)), district)

    assert len(calls) == 3  # of five batches of at most 10 rows
    assert [e.row for e in result.errors] == [0]
    assert "nothing was written" in result.errors[0].message
    assert (result.created, result.updated) == (0, 0)
    assert snapshot() == before


# --- uniqueness ----------------------------------------------------------------------------


def test_duplicates_inside_the_file_name_the_earlier_row(district, maple):
    rows = [
        ["RB-1", "SN-1", "Acer C1", "MAPLE", ""],
        ["RB-2", "SN-2", "Acer C1", "MAPLE", ""],
        ["RB-1", "SN-3", "Acer C1", "MAPLE", ""],
        ["RB-4", "SN-2", "Acer C1 Plus", "MAPLE", ""],
        ["RB-5", "SN-2", "Dell C1", "MAPLE", ""],  # another maker may reuse a serial
    ]
    result = run(csv_bytes(rows), district)
    assert [str(e) for e in result.errors] == [
        'row 4, column asset_tag: "RB-1" is also on row 2',
        'row 5, column serial_number: "SN-2" is also on row 3 (serials are unique per maker)',
    ]
    assert Device.objects.count() == 0


def test_another_schools_devices_block_a_tag_or_serial_without_being_revealed(
    district, maple, cedar
):
    model = DeviceModelFactory(district=district, maker="Acer", name="C1")
    DeviceFactory(school=cedar, model=model, asset_tag="CED-1", serial_number="SN-CED")
    rows = [
        ["CED-1", "SN-NEW", "Acer C1", "MAPLE", ""],
        ["RB-2", "SN-CED", "Acer C1", "MAPLE", ""],
    ]

    result = run(csv_bytes(rows), district, allowed_school_ids={maple.pk})

    assert [str(e) for e in result.errors] == [
        'row 2, column asset_tag: "CED-1" is already used by another device in the district',
        'row 3, column serial_number: "SN-CED" is already used by another device in the district',
    ]
    assert not any("Cedar" in e.message or "CEDAR" in e.message for e in result.errors)


def test_a_serial_used_in_another_district_is_no_conflict(district, maple):
    other = DistrictFactory()
    model = DeviceModelFactory(district=other, maker="Acer", name="C1")
    DeviceFactory(school=SchoolFactory(district=other), model=model, serial_number="SN-1")
    assert run(csv_bytes([["RB-1", "SN-1", "Acer C1", "MAPLE", ""]]), district).ok


def test_a_row_naming_a_school_outside_the_users_scope_is_a_row_error(district, maple, cedar):
    rows = [
        ["RB-1", "SN-1", "Acer C1", "CEDAR", ""],
        ["RB-2", "SN-2", "Acer C1", "NOWHERE", ""],
        ["RB-3", "SN-3", "Acer C1", "MAPLE", ""],
    ]
    result = run(csv_bytes(rows), district, allowed_school_ids={maple.pk})
    # An unknown school and another's read the same: the file learns nothing.
    assert [str(e) for e in result.errors] == [
        'row 2, column school: "CEDAR" is not a school you can import into',
        'row 3, column school: "NOWHERE" is not a school you can import into',
    ]


# --- upserts ----------------------------------------------------------------------------


def test_an_existing_device_is_updated_where_the_file_differs_and_its_move_recorded(
    district, maple, cedar
):
    model = DeviceModelFactory(district=district, maker="Acer", name="C1")
    device = DeviceFactory(
        school=maple,
        model=model,
        asset_tag="RB-1",
        serial_number="SN-1",
        notes="old",
        purchase_date=date(2022, 8, 1),
        status=DeviceStatus.IN_REPAIR,
    )
    header = [*HEADER, "status", "purchase_date"]
    rows = [["RB-1", "SN-1B", "Dell Chromebook 3100", "CEDAR", "new", "in_stock", ""]]

    result = run(csv_bytes(rows, header), district)

    assert result.ok, result.errors
    assert (result.created, result.updated, result.status_kept) == (0, 1, 1)
    device.refresh_from_db()
    assert (device.school, device.serial_number, device.notes) == (cedar, "SN-1B", "new")
    assert (device.model.maker, device.model.name, device.maker) == (
        "Dell",
        "Chromebook 3100",
        "Dell",
    )
    assert device.purchase_date == date(2022, 8, 1)  # a blank cell keeps the value
    assert device.status == DeviceStatus.IN_REPAIR  # statuses change on the device page
    # The leaving is recorded at Maple, the arrival at Cedar: each school sees its own.
    moved, arrived = DeviceEvent.objects.filter(device=device).order_by("-kind")
    assert (moved.kind, moved.school, moved.note) == (
        EventKind.MOVED,
        maple,
        "to Cedar Middle (import)",
    )
    assert (arrived.kind, arrived.school, arrived.note) == (EventKind.ARRIVED, cedar, "")

    again = run(csv_bytes(rows, header), district)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert DeviceEvent.objects.filter(device=device).count() == 2


def test_a_row_without_a_school_leaves_an_existing_device_where_it_is(district, maple, cedar):
    device = DeviceFactory(school=cedar, asset_tag="RB-1", serial_number="SN-1")
    rows = [["RB-1", "SN-1", str(device.model), "", "seen"]]
    assert run(csv_bytes(rows), district, default_school=maple).ok
    device.refresh_from_db()
    assert (device.school, device.notes) == (cedar, "seen")


def test_a_checked_out_device_cannot_be_moved_by_an_import(district, maple, cedar):
    device = DeviceFactory(school=maple, asset_tag="RB-1", status=DeviceStatus.ASSIGNED)
    Assignment.objects.create(
        device=device, student=StudentFactory(school=maple), checked_out_at=timezone.now()
    )
    rows = [["RB-1", device.serial_number, str(device.model), "CEDAR", ""]]
    result = run(csv_bytes(rows), district)
    assert [str(e) for e in result.errors] == [
        "row 2, column school: RB-1 is checked out; check it in before moving it"
    ]


def test_assigned_cannot_be_imported_as_a_status(district, maple):
    header = [*HEADER, "status"]
    result = run(
        csv_bytes([["RB-1", "SN-1", "Acer C1", "MAPLE", "", "Assigned"]], header), district
    )
    assert [(e.row, e.column) for e in result.errors] == [(2, "status")]
    assert "check the device out to a student" in result.errors[0].message


def test_the_catalog_matches_models_without_regard_to_case_and_updates_only_the_aue(
    district, maple
):
    model = DeviceModelFactory(
        district=district, maker="HP", name="Chromebook 14", kind="laptop", touchscreen=False
    )
    header = [*HEADER, "auto_update_expiration", "kind", "touchscreen"]
    rows = [
        ["RB-1", "SN-1", "hp chromebook 14", "MAPLE", "", "2030-06", "tablet", "yes"],
        ["RB-2", "SN-2", "HP Chromebook 14", "MAPLE", "", "2029-06-15", "", ""],
        ["RB-3", "SN-3", "hp Chromebook 11", "MAPLE", "", "", "", ""],
    ]

    result = run(csv_bytes(rows, header), district)

    assert result.ok, result.errors
    model.refresh_from_db()
    # The rows disagree one to one: the catalog keeps the earlier, each device its own.
    assert model.auto_update_expiration == date(2029, 6, 15)
    assert Device.objects.get(asset_tag="RB-1").aue == date(2030, 6, 30)
    assert (model.kind, model.touchscreen) == ("laptop", False)  # the catalog keeps these
    assert Device.objects.filter(model=model).count() == 2
    new = DeviceModel.objects.exclude(pk=model.pk).get()
    assert (new.maker, new.name) == ("HP", "Chromebook 11")  # the catalog's spelling
    assert result.models_created == ["HP Chromebook 11"]


def test_rows_may_not_disagree_about_a_new_models_attributes(district, maple):
    header = [*HEADER, "kind"]
    rows = [
        ["RB-1", "SN-1", "Acer C1", "MAPLE", "", "laptop"],
        ["RB-2", "SN-2", "Acer C1", "MAPLE", "", "tablet"],
    ]
    result = run(csv_bytes(rows, header), district)
    assert [str(e) for e in result.errors] == [
        "row 3, column kind: Acer C1 is given a different kind on row 2"
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("purchase_date", "2024-02-30", '"2024-02-30" is not a date (use YYYY-MM-DD)'),
        ("funding_source", "bake sale", '"bake sale" is not a funding source (use one of:'),
        ("unit_price", "-5", '"-5" is not a price'),
        ("touchscreen", "maybe", '"maybe" is not yes or no'),
        ("kind", "toaster", '"toaster" is not a device kind'),
        (
            "auto_update_expiration",
            "soon",
            '"soon" is not a date (use YYYY-MM, MM/DD/YYYY or YYYY-MM-DD)',
        ),
        ("status", "misplaced", '"misplaced" is not a device status'),
    ],
)
def test_each_bad_value_names_its_row_and_column(district, maple, column, value, message):
    header = [*HEADER, column]
    good = ["RB-1", "SN-1", "Acer C1", "MAPLE", "", ""]
    result = run(
        csv_bytes([good, ["RB-2", "SN-2", "Acer C1", "MAPLE", "", value]], header), district
    )
    ((row, col, text),) = [(e.row, e.column, e.message) for e in result.errors]
    assert (row, col) == (3, column)
    assert text.startswith(message)


def test_a_row_with_more_cells_than_the_header_is_an_error(district, maple):
    content = csv_bytes(rows_for(1)) + b"RB-9,SN-9,Acer C1,MAPLE,Cart A, shelf 2\r\n"
    result = run(content, district)
    assert [(e.row, e.column) for e in result.errors] == [(3, "")]
    assert "6 cells but the header has 5" in result.errors[0].message


def test_a_dry_run_checks_everything_and_writes_nothing(district, maple):
    before = snapshot()
    result = run(csv_bytes(rows_for(20)), district, dry_run=True)
    assert result.ok and result.created == 20
    assert result.summary == (
        "Would import 20 devices (20 created, 0 updated); nothing was written (dry run)."
    )
    assert snapshot() == before


# --- scale --------------------------------------------------------------------------------


def _sqlite_real_variable_limit(monkeypatch):
    """Django 5.2 assumes SQLite's old 999-variable limit and splits every INSERT into
    statements of 999 // columns rows; the linked SQLite allows far more. Tell Django the
    real limit, so the count below measures the importer's batching and not Django's."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        monkeypatch.setattr(connection.features, "max_query_params", limit)


def test_the_number_of_queries_does_not_grow_with_the_file(district, maple, cedar, monkeypatch):
    _sqlite_real_variable_limit(monkeypatch)
    DeviceModelFactory(district=district, maker="Acer", name="Chromebook Spin 512")

    def queries(n, start):
        # Half new devices, half existing ones that move to Cedar (update + event).
        for row in rows_for(n // 2, start=start):
            DeviceFactory(
                school=maple,
                model=DeviceModel.objects.get(name="Chromebook Spin 512"),
                asset_tag=row[0],
                serial_number=row[1],
            )
        rows = rows_for(n // 2, start=start, school="CEDAR") + rows_for(n // 2, start=start + n)
        content = csv_bytes(rows)
        with CaptureQueriesContext(connection) as ctx:
            result = run(content, district)
        assert result.ok and (result.created, result.updated) == (n // 2, n // 2)
        return len(ctx.captured_queries)

    assert queries(50, 0) == queries(500, 10_000)


def test_progress_is_reported_every_thousand_rows_in_each_phase(district, maple):
    calls, phases = [], []
    result = run(
        csv_bytes(rows_for(2500)),
        district,
        progress=lambda done, total: calls.append((done, total)),
        on_phase=phases.append,
    )
    assert result.ok
    assert phases == ["validating", "writing"]
    checking = [(1000, 2500), (2000, 2500), (2500, 2500)]
    assert calls == checking + checking


# --- the command -------------------------------------------------------------------------


def test_the_command_imports_and_reports_the_count(district, maple, cedar):
    out = io.StringIO()
    call_command("import_devices", str(FIXTURES / "devices_pillarwise.csv"), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "Imported 5 devices (5 created, 0 updated)"
    assert "Read as pillarwise, UTF-8, comma-separated." in lines
    assert Device.objects.count() == 5


def test_the_command_writes_each_error_to_stderr_and_exits_1(district, maple, tmp_path):
    path = tmp_path / "devices.csv"
    path.write_bytes(csv_bytes([*rows_for(3), ["RB-9", "", "Acer C1", "MAPLE", ""]]))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as exc:
        call_command("import_devices", str(path), stdout=out, stderr=err)

    assert exc.value.returncode == 1
    assert str(exc.value) == "1 problem found; nothing was imported."
    assert err.getvalue().splitlines() == [
        "row 5, column serial_number: is blank; every device needs its serial number"
    ]
    assert out.getvalue() == ""
    assert Device.objects.count() == 0


def test_the_command_dry_run_writes_nothing(district, maple, cedar):
    out = io.StringIO()
    call_command(
        "import_devices",
        str(FIXTURES / "gam_cros.csv"),
        "--dry-run",
        "--format",
        "google-admin",
        stdout=out,
    )
    assert "Would import 3 devices (3 created, 0 updated)" in out.getvalue()
    assert "Would add to the device catalog: Lenovo 100e Chromebook Gen 3" in out.getvalue()
    assert (Device.objects.count(), DeviceModel.objects.count()) == (0, 0)


def test_the_command_school_option_sets_the_default_school(district, maple, cedar, tmp_path):
    path = tmp_path / "cedar.csv"
    path.write_bytes(csv_bytes([["RB-1", "SN-1", "Acer C1"]], HEADER[:3]))
    call_command("import_devices", str(path), "--school", "cedar", stdout=io.StringIO())
    assert Device.objects.get().school == cedar


def test_the_command_needs_a_district_when_there_are_several(district, maple, cedar, elsewhere):
    path = str(FIXTURES / "devices_pillarwise.csv")
    with pytest.raises(CommandError, match="Give --district SLUG"):
        call_command("import_devices", path)
    assert Device.objects.count() == 0
    call_command("import_devices", path, "--district", "riverbend", stdout=io.StringIO())
    assert Device.objects.filter(district=district).count() == 5


def test_the_command_refuses_an_unknown_school_or_path(district, maple):
    with pytest.raises(CommandError, match="No school has the code NOPE"):
        call_command("import_devices", str(FIXTURES / "gam_cros.csv"), "--school", "NOPE")
    with pytest.raises(CommandError, match="Cannot read /nonexistent.csv"):
        call_command("import_devices", "/nonexistent.csv")
