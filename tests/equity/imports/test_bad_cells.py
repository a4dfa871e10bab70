"""A NUL byte or an overlong cell in any column of any import: a row error, nothing written.

Issue 15, item 11. PostgreSQL cannot store a NUL byte, and csv refuses a cell beyond its
size limit (131,072 characters); either used to end the upload page, the task or the
command with a traceback. Every column of every example file (tests/equity/imports/fixtures) is
tried, through the importers, the commands and the upload pages, and the leavers list of
the rollover.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from equity.imports.devices import import_devices
from equity.imports.models import ImportJob
from equity.imports.students import import_students
from equity.imports.views import SYNC_ROW_LIMIT
from equity.inventory.models import Device, DeviceEvent, DeviceModel, Student
from equity.year import rollover
from tests.factories import StudentFactory

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = sorted(p.name for p in FIXTURES.glob("*.csv"))
NUL_CELL = "bad\x00cell"
HUGE_CELL = "x" * 200_000


def _kind(example: str) -> str:
    return "students" if example.startswith("students") else "devices"


def _rows(example: str) -> list[list[str]]:
    with open(FIXTURES / example, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _with_cell(example: str, column: int, value: str, row: int = 1) -> bytes:
    rows = _rows(example)
    rows[row][column] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


CELLS = [(example, column) for example in EXAMPLES for column in range(len(_rows(example)[0]))]


def _written():
    return (
        Device.objects.count(),
        DeviceModel.objects.count(),
        DeviceEvent.objects.count(),
        Student.objects.count(),
    )


def _shows_row(response, row: int) -> bool:
    """The page's problem table names the row, with what to do about it."""
    page = response.content.decode()
    return f'<th scope="row" class="fw-normal">{row}</th>' in page and (
        "NUL byte" in page or "characters; is a quote" in page
    )


def _import(example: str, content: bytes, district):
    function = import_students if _kind(example) == "students" else import_devices
    return function(io.BytesIO(content), district=district)


def test_every_example_imports_as_it_is(district, maple, cedar):
    """The files the guards below spoil are good files to begin with."""
    for example in EXAMPLES:
        result = _import(example, (FIXTURES / example).read_bytes(), district)
        assert result.ok, (example, result.errors)


@pytest.mark.parametrize(("example", "column"), CELLS)
@pytest.mark.parametrize("cell", [NUL_CELL, HUGE_CELL], ids=["nul", "200k"])
def test_a_bad_cell_in_any_column_is_a_row_error(example, column, cell, district, maple, cedar):
    before = _written()
    result = _import(example, _with_cell(example, column, cell), district)
    assert not result.ok
    assert [e.row for e in result.errors] == [2], result.errors
    assert "nothing was imported" in result.summary
    assert _written() == before


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_commands_report_the_row_and_exit_1(example, district, maple, cedar, tmp_path):
    for cell in (NUL_CELL, HUGE_CELL):
        path = tmp_path / example
        path.write_bytes(_with_cell(example, 0, cell))
        err = io.StringIO()
        with pytest.raises(CommandError, match="nothing was imported"):
            call_command(
                f"import_{_kind(example)}",
                str(path),
                "--district",
                district.slug,
                stdout=io.StringIO(),
                stderr=err,
            )
        assert "row 2" in err.getvalue()
    assert _written() == (0, 0, 0, 0)


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_upload_pages_show_the_row_error(example, login, tech, cedar, maple):
    url = reverse(f"equity:import_{_kind(example)}", args=[cedar.pk])
    client = login(tech)
    for cell in (NUL_CELL, HUGE_CELL):
        upload = SimpleUploadedFile(example, _with_cell(example, 0, cell), "text/csv")
        response = client.post(url, {"file": upload})
        assert response.status_code == 200
        assert _shows_row(response, 2)
    assert _written() == (0, 0, 0, 0)


def test_a_large_upload_with_a_nul_byte_is_refused_before_it_is_queued(login, tech, cedar):
    """Above SYNC_ROW_LIMIT the file is stored for a worker; PostgreSQL could not store it."""
    rows = [["asset_tag", "serial_number", "model"]]
    rows += [[f"RB-{i:06d}", f"SN{i:08d}", "Acer Chromebook"] for i in range(SYNC_ROW_LIMIT + 5)]
    rows[1500][2] = NUL_CELL
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    upload = SimpleUploadedFile("big.csv", out.getvalue().encode(), "text/csv")
    response = login(tech).post(reverse("equity:import_devices", args=[cedar.pk]), {"file": upload})
    assert response.status_code == 200
    assert _shows_row(response, 1501)  # the header is line 1
    assert not ImportJob.objects.exists()
    assert _written() == (0, 0, 0, 0)


@pytest.mark.parametrize("cell", [NUL_CELL, HUGE_CELL], ids=["nul", "200k"])
def test_a_bad_cell_in_the_leavers_list_is_a_row_error(cell, district, maple):
    StudentFactory(school=maple, local_id="M-1")
    text = f"student_id,reason\nM-1,graduated\n{cell},withdrawn\n"
    plan = rollover.plan_rollover(district, text)
    assert [row for row, _message in plan.errors] == [3]


def test_the_rollover_page_shows_a_bad_leavers_list(login, district, maple, admin_member_of):
    client = login(admin_member_of(district))
    url = reverse("equity:rollover", args=[district.pk])
    for cell in (NUL_CELL, HUGE_CELL):
        text = f"student_id,reason\n{cell},withdrawn\n".encode()
        upload = SimpleUploadedFile("leavers.csv", text, "text/csv")
        response = client.post(url, {"leavers": upload})
        assert response.status_code in (200, 400)
        assert b"Row 2: " in response.content


@pytest.fixture
def admin_member_of():
    from schools.models import Role
    from tests.factories import MembershipFactory, UserFactory

    def make(district):
        user = UserFactory()
        MembershipFactory(user=user, school=None, district=district, role=Role.DISTRICT_ADMIN)
        return user

    return make
