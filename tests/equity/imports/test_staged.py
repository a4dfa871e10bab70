"""The device importer's set-based path on PostgreSQL (``equity.inventory.staged``): the
parsed rows go to a temporary table, every check that needs the whole file or the
inventory is a query, and the writes are ``UPDATE ... FROM`` / ``INSERT ... SELECT``.

It must say and write exactly what the row-by-row path (SQLite's, and PostgreSQL's before)
says and writes: every test here runs the same file both ways on PostgreSQL and compares
the errors (rows, columns, words, order), the counts and what was stored. On SQLite the
comparison is skipped (there is one path), the rest of the import tests cover it.
"""

import csv
import gc
import io
import tracemalloc

import pytest
from django.db import IntegrityError, connection

from equity.imports import importer
from equity.imports.devices import DeviceImporter, import_devices
from equity.inventory import staged
from equity.inventory.models import Device, DeviceEvent, DeviceStatus
from tests.factories import DeviceFactory, DeviceModelFactory, UserFactory

HEADER = ["asset_tag", "serial_number", "model", "school", "notes", "purchase_date", "status"]


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the staged path is PostgreSQL's; SQLite has the row-by-row one only")


def csv_bytes(rows, header=HEADER):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def stored():
    devices = list(
        Device.objects.order_by("asset_tag").values_list(
            "asset_tag",
            "serial_number",
            "maker",
            "model__name",
            "school__code",
            "status",
            "purchase_date",
            "funding_source",
            "notes",
            "auto_update_expiration",
        )
    )
    events = sorted(
        DeviceEvent.objects.values_list(
            "device__asset_tag", "kind", "school__code", "by_id", "student_id", "note"
        )
    )
    return devices, events


def both_ways(content, district, monkeypatch, **kwargs):
    """(row by row, staged): each path's result and what it stored, from the same state.
    The first run is rolled back (a savepoint), so the second starts where it started."""
    from django.db import transaction

    class Undo(Exception):
        pass

    outcomes = []
    for use in (False, True):
        with monkeypatch.context() as patch:
            if not use:
                patch.setattr(DeviceImporter, "use_staging", lambda self: False)
            try:
                with transaction.atomic():
                    result = import_devices(io.BytesIO(content), district=district, **kwargs)
                    outcomes.append((result, stored()))
                    raise Undo
            except Undo:
                pass
    return outcomes


def same(outcomes):
    (rows_result, rows_stored), (staged_result, staged_stored) = outcomes
    fields = ("ok", "rows", "created", "updated", "unchanged", "status_kept", "error_count")
    assert {f: getattr(staged_result, f) for f in fields} == {
        f: getattr(rows_result, f) for f in fields
    }
    assert [str(e) for e in staged_result.errors] == [str(e) for e in rows_result.errors]
    assert staged_result.models_created == rows_result.models_created
    assert staged_result.aue_disagreements == rows_result.aue_disagreements
    assert staged_stored == rows_stored
    return staged_result


def test_every_kind_of_refusal_is_worded_and_ordered_as_row_by_row(
    district, maple, cedar, monkeypatch
):
    postgres_only()
    model = DeviceModelFactory(district=district, maker="Acer", name="C1")
    DeviceFactory(school=cedar, model=model, asset_tag="CED-1", serial_number="SN-CED")
    out = DeviceFactory(school=maple, model=model, asset_tag="OUT-1", serial_number="SN-OUT")
    out.status = DeviceStatus.ASSIGNED
    out.save()
    rows = [
        ["RB-1", "SN-1", "Acer C1", "MAPLE", "", "", ""],
        ["RB-1", "SN-2", "Acer C1", "MAPLE", "", "", ""],  # tag twice
        ["RB-3", "SN-1", "Acer C1", "MAPLE", "", "", ""],  # serial twice
        ["RB-4", "SN-4", "Acer C1", "MAPLE", "", "13/45/2024", ""],  # a cell's own error
        ["CED-1", "SN-NEW", "Acer C1", "MAPLE", "", "", ""],  # another school's tag
        ["RB-6", "SN-CED", "Acer C1", "MAPLE", "", "", ""],  # another device's serial
        ["OUT-1", "SN-OUT", "Acer C1", "CEDAR", "", "", ""],  # refused: checked out
        ["RB-8", "SN-8", "Acer C1", "", "", "", ""],  # a new device without a school
        ["RB-1", "SN-1", "Acer C1", "MAPLE", "", "", ""],  # both twice
        ["RB-10", "SN-10", "Dell C1", "MAPLE", "", "", "bogus"],
    ]
    result = same(
        both_ways(csv_bytes(rows), district, monkeypatch, allowed_school_ids={maple.pk, cedar.pk})
    )
    assert not result.ok and result.error_count == 9
    assert [e.row for e in result.errors] == [3, 4, 5, 10, 10, 11, 7, 8, 9]


def test_the_allowed_schools_hide_another_schools_device(district, maple, cedar, monkeypatch):
    postgres_only()
    model = DeviceModelFactory(district=district, maker="Acer", name="C1")
    DeviceFactory(school=cedar, model=model, asset_tag="CED-1", serial_number="SN-CED")
    rows = [
        ["CED-1", "SN-NEW", "Acer C1", "MAPLE", "", "", ""],
        ["RB-2", "SN-CED", "Acer C1", "MAPLE", "", "", ""],
    ]
    result = same(both_ways(csv_bytes(rows), district, monkeypatch, allowed_school_ids={maple.pk}))
    assert [e.column for e in result.errors] == ["asset_tag", "serial_number"]


def test_errors_merge_per_batch_as_row_by_row(district, maple, monkeypatch):
    """Per batch of LOOKUP_BATCH rows: the cells' errors and the file's duplicates, then what
    the inventory refuses; and no more than max_errors kept, every one counted."""
    postgres_only()
    monkeypatch.setattr(importer, "LOOKUP_BATCH", 4)
    model = DeviceModelFactory(district=district, maker="Acer", name="C1")
    DeviceFactory(school=maple, model=model, asset_tag="OLD", serial_number="SN-TAKEN")
    rows = []
    for i in range(14):
        rows.append([f"RB-{i}", f"SN-{i}", "Acer C1", "MAPLE", "", "", ""])
    rows[2][1] = "SN-TAKEN"  # refused in batch 0, after batch 0's own errors
    rows[3][6] = "bogus"
    rows[5][0] = "RB-0"  # twice, in batch 1
    rows[6][1] = "SN-TAKEN"
    rows[9][6] = "bogus"
    rows[13][1] = "SN-1"
    result = same(both_ways(csv_bytes(rows), district, monkeypatch))
    assert [e.row for e in result.errors] == [5, 4, 7, 8, 11, 15]
    capped = same(both_ways(csv_bytes(rows), district, monkeypatch, max_errors=3))
    assert [e.row for e in capped.errors] == [5, 4, 7] and capped.error_count == 6


def test_a_good_file_stores_the_same_devices_events_and_counts(district, maple, cedar, monkeypatch):
    postgres_only()
    model = DeviceModelFactory(district=district, maker="Acer", name="C1")
    DeviceFactory(school=maple, model=model, asset_tag="MOVE", serial_number="SN-M", notes="x")
    DeviceFactory(school=maple, model=model, asset_tag="SAME", serial_number="SN-S", notes="")
    keep = DeviceFactory(school=maple, model=model, asset_tag="KEEP", serial_number="SN-K")
    keep.status = DeviceStatus.IN_REPAIR
    keep.save()
    rows = [
        ["MOVE", "SN-M", "Acer C1", "CEDAR", "", "", ""],  # a move: two events, notes kept
        ["SAME", "SN-S", "Acer C1", "MAPLE", "", "", ""],  # unchanged
        ["KEEP", "SN-K2", "Acer C1", "", "new", "8/1/2024", "lost"],  # status kept
        ["NEW-1", "SN-1", "Acer C1", "CEDAR", "tab\there", "2024-08-01", "in_repair"],
        ["NEW-2", "SN-2", "Lenovo 100e", "", "", "", ""],  # default school, new model
    ]
    result = same(
        both_ways(csv_bytes(rows), district, monkeypatch, default_school=maple, user=UserFactory())
    )
    assert (result.created, result.updated, result.unchanged, result.status_kept) == (2, 2, 1, 1)


def test_a_dry_run_and_a_failed_check_leave_no_staging_table(district, maple, monkeypatch):
    postgres_only()
    good = csv_bytes([["RB-1", "SN-1", "Acer C1", "MAPLE", "", "", ""]])
    bad = csv_bytes([["RB-1", "SN-1", "Acer C1", "MAPLE", "", "", ""]] * 2)
    assert import_devices(io.BytesIO(good), district=district, dry_run=True).ok
    assert not import_devices(io.BytesIO(bad), district=district).ok
    assert import_devices(io.BytesIO(good), district=district).ok
    tables = connection.introspection.table_names(include_views=False)
    assert staged.ROWS not in tables and staged.MODELS not in tables
    assert Device.objects.count() == 1


def test_an_inventory_change_between_check_and_write_rolls_back(district, maple, monkeypatch):
    """Another writer takes one of the file's new asset tags after the check: the counts no
    longer match, nothing of the file is written."""
    postgres_only()
    model = DeviceModelFactory(district=district, maker="Acer", name="C1")
    original = DeviceImporter.write_part

    def meanwhile(self, part):
        DeviceFactory(school=maple, model=model, asset_tag="RB-2", serial_number="OTHER")
        original(self, part)

    monkeypatch.setattr(DeviceImporter, "write_part", meanwhile)
    rows = [[f"RB-{i}", f"SN-{i}", "Acer C1", "MAPLE", "", "", ""] for i in range(5)]
    result = import_devices(io.BytesIO(csv_bytes(rows)), district=district)
    assert [e.row for e in result.errors] == [0]
    assert "nothing was written" in result.errors[0].message
    assert not Device.objects.filter(asset_tag__in=["RB-0", "RB-1", "RB-3"]).exists()


def test_a_failure_in_the_last_statement_leaves_nothing_written(district, maple, monkeypatch):
    postgres_only()
    original = staged.DevicesStaged.write_new

    def write(self, **kwargs):
        written = original(self, **kwargs)  # every device and event is in the table by now
        if written:
            raise IntegrityError("a concurrent writer")
        return written

    monkeypatch.setattr(staged.DevicesStaged, "write_new", write)
    rows = [[f"RB-{i}", f"SN-{i}", "Acer C1", "MAPLE", "", "", ""] for i in range(5)]
    result = import_devices(io.BytesIO(csv_bytes(rows)), district=district)
    assert [e.row for e in result.errors] == [0]
    assert Device.objects.count() == DeviceEvent.objects.count() == 0


def test_python_memory_does_not_grow_with_the_file(district, maple, monkeypatch):
    """The keys that find duplicates live in the staging table: ten times the rows, about
    the same Python peak (the row-by-row path grew ~0.2 KB a row)."""
    postgres_only()
    # Both files fill whole batches and parts (one part's device lines pass through Python
    # while it is written), so what could differ is only what grows with the file.
    monkeypatch.setattr(importer, "LOOKUP_BATCH", 300)
    monkeypatch.setattr(importer, "STAGED_PART", 300)

    def peak(n, start):
        rows = [
            [f"M-{i:07d}", f"SN{i:08d}", "Acer C1", "MAPLE", "", "", ""]
            for i in range(start, start + n)
        ]
        content = csv_bytes(rows)
        gc.collect()  # garbage of earlier tests is not this import's to carry
        tracemalloc.start()
        try:
            result = import_devices(io.BytesIO(content), district=district)
            _current, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.ok, result.errors[:3]
        return top

    peak(20, 10**6)  # what a process sets up once
    small, large = peak(600, 0), peak(6000, 600)
    assert (large - small) / 5400 < 40, (small, large)  # bytes per extra row
    assert large < 1.5 * small, (small, large)


@pytest.mark.django_db(transaction=True)
def test_a_staging_copy_that_fails_raises_as_a_statement_does(district, maple, monkeypatch):
    """Each batch's COPY into the staging table runs while the next batch is parsed; when the
    database refuses one, the import raises the database's error (as Django raises a
    statement's), whichever batch it was, and leaves no staging table and no device."""
    postgres_only()
    monkeypatch.setattr(importer, "LOOKUP_BATCH", 2)
    columns = dict(staged.ROW_COLUMNS)
    rows = [[f"RB-{i}", f"SN-{i}", "Acer C1", "MAPLE", "", "", ""] for i in range(9)]
    files = []
    for refused_line in (7, 10):  # a batch with more after it; the last batch
        columns["line"] = f"integer NOT NULL CHECK (line <> {refused_line})"
        monkeypatch.setattr(staged, "ROW_COLUMNS", tuple(columns.items()))
        content = io.BytesIO(csv_bytes(rows))
        files.append(content)  # open as long as the interrupted reading may look at it
        with pytest.raises(IntegrityError, match="check constraint"):
            import_devices(content, district=district)
        tables = connection.introspection.table_names(include_views=False)
        assert staged.ROWS not in tables and staged.MODELS not in tables
        assert not Device.objects.exists()
    columns["line"] = "integer NOT NULL"
    monkeypatch.setattr(staged, "ROW_COLUMNS", tuple(columns.items()))
    assert import_devices(io.BytesIO(csv_bytes(rows)), district=district).ok
