"""import_students: pseudonymous rosters, upserts by local ID, all or nothing."""

import csv
import io
import random
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from equity.imports.students import import_students
from equity.inventory.models import Student
from tests.factories import StudentFactory

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = ["student_id", "school", "grade", "needs_touch", "home_internet"]


def csv_bytes(rows, header=HEADER, delimiter=",", encoding="utf-8"):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def run(content, district, **kwargs):
    return import_students(io.BytesIO(content), district=district, **kwargs)


def students():
    return list(
        Student.objects.order_by("local_id").values_list(
            "local_id", "school__code", "grade", "needs_touch", "home_internet", "active"
        )
    )


def test_the_roster_fixture_is_imported_without_names(district, maple, cedar):
    result = run((FIXTURES / "students.csv").read_bytes(), district)

    assert result.ok, result.errors
    assert result.summary == "Imported 4 students (4 created, 0 updated)"
    assert result.ignored_columns == ["first_name", "last_name", "birthdate"]
    assert students() == [
        ("400123", "MAPLE", 2, True, "no", True),
        ("400124", "MAPLE", 0, False, "yes", True),
        ("500311", "CEDAR", 7, False, "unknown", True),
        ("500312", "CEDAR", 8, False, "unknown", True),  # blank cells: the defaults
    ]
    assert all(s.district == district for s in Student.objects.all())


def test_the_command_says_which_columns_it_ignored(district, maple, cedar):
    out = io.StringIO()
    call_command("import_students", str(FIXTURES / "students.csv"), stdout=out)
    lines = out.getvalue().splitlines()
    assert "ignored columns: first_name, last_name, birthdate" in lines
    assert lines[-1] == "Imported 4 students (4 created, 0 updated)"


@pytest.mark.parametrize(
    ("header", "value"),
    [("local_id", "L-1"), ("Student ID", "L-2"), ("Local Student ID", "L-3")],
)
def test_the_id_column_has_several_accepted_names(district, maple, header, value):
    assert run(csv_bytes([[value, "K"]], [header, "grade"]), district, default_school=maple).ok
    assert Student.objects.get().local_id == value


@pytest.mark.parametrize(
    ("text", "grade"),
    [("PK", -1), ("Pre-K", -1), ("K", 0), ("KG", 0), ("0", 0), ("05", 5), ("5", 5), ("12", 12)],
)
def test_grades_are_read_as_districts_write_them(district, text, grade):
    from tests.factories import SchoolFactory

    school = SchoolFactory(district=district, code="ALL", lowest_grade=-1, highest_grade=12)
    assert run(csv_bytes([["S-1", "ALL", text]], HEADER[:3]), district).ok
    assert Student.objects.get().grade == grade
    assert Student.objects.get().school == school


@pytest.mark.parametrize("text", ["13", "TK", "first", "-2"])
def test_other_grades_are_errors(district, maple, text):
    result = run(csv_bytes([["S-1", "MAPLE", text]], HEADER[:3]), district)
    assert [(e.row, e.column) for e in result.errors] == [(2, "grade")]
    assert result.errors[0].message.startswith(f'"{text}" is not a grade')


def test_a_grade_the_school_does_not_teach_is_an_error(district, maple, cedar):
    result = run(csv_bytes([["S-1", "CEDAR", "3"]], HEADER[:3]), district)
    assert [str(e) for e in result.errors] == [
        "row 2, column grade: grade 3 is not taught at Cedar Middle (6–8)"
    ]


def test_an_existing_student_is_updated_and_blank_cells_keep_their_values(district, maple, cedar):
    student = StudentFactory(
        school=maple, local_id="400123", grade=2, needs_touch=True, home_internet="yes"
    )
    StudentFactory(school=maple, local_id="400999", grade=4, home_internet="no", active=False)
    rows = [["400123", "", "3", "", ""], ["400999", "", "4", "", "no"]]

    result = run(csv_bytes(rows), district, default_school=maple)

    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (0, 2, 0)
    student.refresh_from_db()
    assert (student.grade, student.needs_touch, student.home_internet) == (3, True, "yes")
    assert Student.objects.get(local_id="400999").active  # listed again: enrolled again
    again = run(csv_bytes(rows), district, default_school=maple)
    assert (again.updated, again.unchanged) == (0, 2)


def test_a_student_moves_when_the_row_names_another_school(district, maple, cedar):
    StudentFactory(school=maple, local_id="400123", grade=5)
    assert run(csv_bytes([["400123", "CEDAR", "6"]], HEADER[:3]), district).ok
    assert students()[0][:3] == ("400123", "CEDAR", 6)


def test_an_id_used_at_a_school_outside_the_users_scope_reveals_nothing(district, maple, cedar):
    StudentFactory(school=cedar, local_id="500311", grade=7)
    result = run(
        csv_bytes([["500311", "", "2"]], HEADER[:3]),
        district,
        default_school=maple,
        allowed_school_ids={maple.pk},
    )
    assert [str(e) for e in result.errors] == [
        'row 2, column student_id: "500311" is already used in the district'
    ]


def test_a_student_id_twice_in_the_file_is_an_error(district, maple):
    rows = [["S-1", "MAPLE", "1"], ["S-2", "MAPLE", "1"], ["S-1", "MAPLE", "2"]]
    result = run(csv_bytes(rows, HEADER[:3]), district)
    assert [str(e) for e in result.errors] == ['row 4, column student_id: "S-1" is also on row 2']


def test_a_missing_id_column_is_one_error(district, maple):
    content = csv_bytes([["Avery", "2"], ["Jordan", "3"]], ["first_name", "grade"])
    result = run(content, district, default_school=maple)
    assert [str(e) for e in result.errors] == [
        'row 1, column student_id: the file has no "student_id" column (a required column)'
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("needs_touch", "sometimes", '"sometimes" is not yes or no'),
        ("home_internet", "cable", '"cable" is not a home internet answer'),
        ("school", "NOWHERE", 'no school of the district has the code or name "NOWHERE"'),
    ],
)
def test_bad_values_name_their_row_and_column(district, maple, column, value, message):
    row = {"student_id": "S-1", "school": "MAPLE", "grade": "2", column: value}
    result = run(csv_bytes([[row.get(h, "") for h in HEADER]]), district)
    assert [(e.row, e.column) for e in result.errors] == [(2, column)]
    assert result.errors[0].message.startswith(message)


@pytest.mark.parametrize("seed", [3, 11, 99])
def test_one_bad_row_anywhere_means_no_student_is_written(district, maple, seed):
    rng = random.Random(seed)
    StudentFactory(school=maple, local_id="S-0005", grade=1)
    before = students()
    rows = [[f"S-{i:04d}", "MAPLE", str(i % 6), "no", "yes"] for i in range(200)]
    position = rng.randrange(len(rows))
    rows[position][rng.choice([2, 3, 4])] = "??"

    result = run(csv_bytes(rows, delimiter=";", encoding="cp1252"), district)

    assert [e.row for e in result.errors] == [position + 2]
    assert students() == before


def test_the_command_fails_with_exit_status_1_and_dry_run_writes_nothing(district, maple, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["S-1", "MAPLE", "2"], ["S-2", "MAPLE", "TK"]], HEADER[:3]))
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_students", str(bad), stderr=err)
    assert exc.value.returncode == 1
    assert err.getvalue().startswith('row 3, column grade: "TK" is not a grade')

    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([["S-1", "2"]], ["student_id", "grade"]))
    out = io.StringIO()
    call_command("import_students", str(good), "--school", "MAPLE", "--dry-run", stdout=out)
    assert "Would import 1 student (1 created, 0 updated)" in out.getvalue()
    assert Student.objects.count() == 0
