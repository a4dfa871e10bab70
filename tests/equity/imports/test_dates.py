"""Dates in device imports: ISO or the district's own order, never guessed; and each
device's own auto-update expiration kept from a GAM file whose rows disagree."""

import csv
import io
from datetime import date

import pytest

from equity.imports.devices import import_devices
from equity.imports.readers import Invalid, parse_date
from equity.inventory import services
from equity.inventory.coverage import school_coverage
from equity.inventory.models import Device, DeviceModel
from schools.models import DateOrder, School
from tests.factories import StudentFactory

HEADER = ["asset_tag", "serial_number", "model", "school", "purchase_date"]


def run(rows, district, header=HEADER, **kwargs):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return import_devices(io.BytesIO(out.getvalue().encode()), district=district, **kwargs)


@pytest.mark.parametrize(
    ("order", "text", "expected"),
    [
        (DateOrder.MDY, "08/15/2026", date(2026, 8, 15)),
        (DateOrder.MDY, "8/5/2026", date(2026, 8, 5)),
        (DateOrder.MDY, "04/03/2026", date(2026, 4, 3)),
        (DateOrder.DMY, "15/08/2026", date(2026, 8, 15)),
        (DateOrder.DMY, "04/03/2026", date(2026, 3, 4)),
        (DateOrder.DMY, "15.08.2026", date(2026, 8, 15)),
        (DateOrder.MDY, "2026-08-15", date(2026, 8, 15)),
        (DateOrder.DMY, "2026-08-15", date(2026, 8, 15)),
        (DateOrder.MDY, "2026-08-15T10:00:00Z", date(2026, 8, 15)),
        (DateOrder.MDY, "Aug 15, 2026", date(2026, 8, 15)),  # as the product writes it
    ],
)
def test_iso_and_the_districts_order_are_read(order, text, expected):
    assert parse_date(text, order) == expected


@pytest.mark.parametrize(
    ("order", "text", "message"),
    [
        (DateOrder.MDY, "08/15/26", '"08/15/26" is ambiguous: write the year in full'),
        (DateOrder.MDY, "15/08/2026", "not a date in this district's order MM/DD/YYYY; are the"),
        (DateOrder.DMY, "08/15/2026", "not a date in this district's order DD/MM/YYYY; are the"),
        (DateOrder.MDY, "02/30/2026", '"02/30/2026" is not a date (use MM/DD/YYYY or YYYY-MM-DD)'),
        (DateOrder.MDY, "2026-02-30", '"2026-02-30" is not a date (use YYYY-MM-DD)'),
        (DateOrder.MDY, "next week", '"next week" is not a date (use MM/DD/YYYY or YYYY-MM-DD)'),
    ],
)
def test_an_ambiguous_or_invalid_date_is_refused_not_guessed(order, text, message):
    with pytest.raises(Invalid) as exc:
        parse_date(text, order)
    assert message in str(exc.value)


def test_the_import_reads_dates_in_the_districts_order_and_names_each_bad_row(district, maple):
    rows = [
        ["T-1", "S-1", "Acer C1", "MAPLE", "08/15/2026"],
        ["T-2", "S-2", "Acer C1", "MAPLE", "2026-08-16"],
        ["T-3", "S-3", "Acer C1", "MAPLE", "15/08/2026"],
        ["T-4", "S-4", "Acer C1", "MAPLE", "08/15/26"],
    ]
    result = run(rows, district)
    assert [(e.row, e.column) for e in result.errors] == [
        (4, "purchase_date"),
        (5, "purchase_date"),
    ]
    assert "swapped" in result.errors[0].message and "ambiguous" in result.errors[1].message
    assert not Device.objects.exists()  # nothing half written
    result = run(rows[:2], district)
    assert result.ok, result.errors
    assert sorted(Device.objects.values_list("purchase_date", flat=True)) == [
        date(2026, 8, 15),
        date(2026, 8, 16),
    ]


def test_a_day_first_district_reads_its_own_order(district, maple):
    district.date_order = DateOrder.DMY
    district.save()
    result = run([["T-1", "S-1", "Acer C1", "MAPLE", "15/08/2026"]], district)
    assert result.ok, result.errors
    assert Device.objects.get().purchase_date == date(2026, 8, 15)
    refused = run([["T-2", "S-2", "Acer C1", "MAPLE", "08/15/2026"]], district)
    assert "DD/MM/YYYY" in refused.errors[0].message


GAM = ["serialNumber", "model", "annotatedAssetId", "orgUnitPath", "autoUpdateExpiration"]
MODEL = "Lenovo 100e Chromebook Gen 3"


def test_each_device_keeps_its_own_auto_update_date_and_the_disagreement_is_told(district, maple):
    rows = [
        ["PF1", MODEL, "RB-1", "/Students/Maple Elementary", "2030-06-30"],
        ["PF2", MODEL, "RB-2", "/Students/Maple Elementary", "2032-06-30"],
        ["PF3", MODEL, "RB-3", "/Students/Maple Elementary", "2030-06-30"],
        ["PF4", MODEL, "RB-4", "/Students/Maple Elementary", "2030-06-30"],
    ]
    dry = run(rows, district, header=GAM, dry_run=True)
    assert dry.ok, dry.errors
    told = [line for line in dry.details if "auto-update expiration dates" in line]
    assert told == [
        "Lenovo 100e Chromebook Gen 3: the file gives 2 auto-update expiration dates, "
        "Jun 30, 2030 on 3 rows (2, 4, 5); Jun 30, 2032 on 1 row (3). Each device keeps its "
        "own date; the catalog keeps Jun 30, 2030, the most common."
    ]
    result = run(rows, district, header=GAM)
    assert result.ok and result.details[-1] == told[0]
    model = DeviceModel.objects.get()
    assert model.auto_update_expiration == date(2030, 6, 30)
    aue = {d.asset_tag: d.aue for d in Device.objects.select_related("model")}
    assert aue == {
        "RB-1": date(2030, 6, 30),
        "RB-2": date(2032, 6, 30),
        "RB-3": date(2030, 6, 30),
        "RB-4": date(2030, 6, 30),
    }
    # In 2031 only the device supported until 2032 is usable and may go out.
    (row,) = school_coverage(School.objects.filter(pk=maple.pk), today=date(2031, 1, 5))
    assert row.usable == 1 and row.expiring_12m == 0
    (row,) = school_coverage(School.objects.filter(pk=maple.pk), today=date(2029, 9, 1))
    assert row.usable == 4 and row.expiring_12m == 3
    assert list(Device.objects.usable(on=date(2031, 1, 5)).values_list("asset_tag", flat=True)) == [
        "RB-2"
    ]


def test_a_newer_file_updates_a_devices_own_date(district, maple):
    rows = [["PF1", MODEL, "RB-1", "/Students/Maple Elementary", "2030-06-30"]]
    run(rows, district, header=GAM)
    rows[0][4] = "2031-06"
    result = run(rows, district, header=GAM)
    assert result.ok and result.updated == 1
    assert Device.objects.get().aue == date(2031, 6, 30)


def test_check_out_follows_the_devices_own_date(district, maple, tech):
    rows = [
        ["PF1", MODEL, "RB-1", "/Students/Maple Elementary", "2020-06-30"],
        ["PF2", MODEL, "RB-2", "/Students/Maple Elementary", "2099-06-30"],
    ]
    run(rows, district, header=GAM)
    student = StudentFactory(school=maple)
    expired, supported = Device.objects.order_by("asset_tag")
    with pytest.raises(Exception, match="past its auto-update expiration"):
        services.device_check_out(device=expired, student=student, by=tech)
    assert services.device_check_out(device=supported, student=student, by=tech)
