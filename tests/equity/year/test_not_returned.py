"""The not-returned figures of a collection day read one school's students, whatever the
size of the district (readiness scale work, issue 8)."""

import pytest

from equity.year import selectors as year_selectors
from tests.factories import StationEventFactory, open_assignment

pytestmark = pytest.mark.django_db


def test_the_students_are_joined_once_and_filtered_by_the_school(cedar, tech):
    event = StationEventFactory(school=cedar, kind="collection", grades=[6])
    sql = str(year_selectors._not_returned(event).query)
    # One join to the student, filtered there; no second read of the students as a
    # subquery (which let PostgreSQL scan every student of the district).
    assert sql.count('"equity_student"') == sql.count('"equity_student".') + 1
    assert "SELECT U0" not in sql and '"equity_student"."school_id" =' in sql


def test_inactive_students_and_other_grades_are_left_out(cedar, tech):
    event = StationEventFactory(school=cedar, kind="collection", grades=[6])
    open_assignment(cedar, grade=6, homeroom="6A")
    gone = open_assignment(cedar, grade=6, homeroom="6A")
    gone.student.active = False
    gone.student.save()
    open_assignment(cedar, grade=7, homeroom="7B")
    groups = [(g["student__grade"], g["student__homeroom"], g["n"]) for g in
              year_selectors.not_returned_groups(event)]  # fmt: skip
    assert groups == [(6, "6A", 1)]
    assert year_selectors.collection_progress(event)["out"] == 1


def test_a_day_for_every_grade_counts_every_active_student(cedar, tech):
    event = StationEventFactory(school=cedar, kind="collection", grades=[])
    open_assignment(cedar, grade=6, homeroom="6A")
    open_assignment(cedar, grade=8, homeroom="8C")
    assert [g["n"] for g in year_selectors.not_returned_groups(event)] == [1, 1]
