"""The rollover follows the district's feeder pattern: a school's top grade moves on to the
school it feeds into, one grade up, and each school's grade-band enrollment follows."""

from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from equity.inventory.models import LeaveReason, Student
from equity.year import rollover
from equity.year.models import RolloverRun
from schools.models import School
from tests.factories import DeviceFactory, SchoolFactory, StudentFactory, open_assignment

JUNE = date(2027, 6, 20)


@pytest.fixture
def roster(maple, cedar):
    """Maple teaches K-5 (150 + 150 enrolled), Cedar 6-8 (500), and Maple feeds Cedar."""
    maple.feeds_into = cedar
    maple.save()
    return {
        "k": StudentFactory(school=maple, grade=0, local_id="M-K"),
        "g4": StudentFactory(school=maple, grade=4, local_id="M-4"),
        "g5": StudentFactory(school=maple, grade=5, local_id="M-5", homeroom="5B"),
        "g5b": StudentFactory(school=maple, grade=5, local_id="M-5B"),
        "c6": StudentFactory(school=cedar, grade=6, local_id="C-6"),
        "c8": StudentFactory(school=cedar, grade=8, local_id="C-8"),
    }


def where():
    return {s.local_id: (s.school.code, s.grade, s.active) for s in Student.objects.all()}


def bands(school):
    school.refresh_from_db()
    return (
        school.enrollment_pk_2,
        school.enrollment_3_5,
        school.enrollment_6_8,
        school.enrollment_9_12,
    )


def test_the_dry_run_shows_the_top_grade_moving_to_the_next_school(district, roster, maple, cedar):
    plan = rollover.plan_rollover(district, "", today=JUNE)
    assert plan.can_run
    ids = {s.local_id: s.pk for s in Student.objects.all()}
    assert plan.moves == {ids["M-5"]: (cedar.pk, 6), ids["M-5B"]: (cedar.pk, 6)}
    assert plan.promote == {ids["M-K"]: 1, ids["M-4"]: 5, ids["C-6"]: 7}
    assert plan.leavers == {ids["C-8"]: LeaveReason.COMPLETED}  # Cedar feeds nowhere
    lines = plan.summary_lines()
    assert "5 students move up a grade." in lines
    assert "2 of them move on to the next school of the feeder pattern:" in lines
    assert "  2 from Maple Elementary (grade 5) to Cedar Middle (grade 6)" in lines
    assert "  into grade 6: 2" in lines
    assert "  Maple Elementary: 3–5 150 → 148" in lines
    # Cedar gains two grade 6 students and loses its grade 8 leaver: 500 + 2 - 1.
    assert "  Cedar Middle: 6–8 500 → 501" in lines
    assert not RolloverRun.objects.exists() and where()["M-5"] == ("MAPLE", 5, True)


def test_the_run_moves_students_and_enrollment_to_the_next_school(
    district, roster, maple, cedar, tech
):
    run = rollover.run_rollover(district, "", by=tech, today=JUNE)
    assert (run.promoted, run.leavers, run.details["moved_school"]) == (5, 1, 2)
    after = where()
    assert after["M-5"] == after["M-5B"] == ("CEDAR", 6, True)
    assert after["M-K"] == ("MAPLE", 1, True) and after["M-4"] == ("MAPLE", 5, True)
    assert after["C-6"] == ("CEDAR", 7, True) and after["C-8"] == ("CEDAR", 8, False)
    moved = Student.objects.get(local_id="M-5")
    assert moved.homeroom == "" and moved.district_id == district.pk
    assert Student.objects.get(local_id="C-8").leave_reason == LeaveReason.COMPLETED
    # Grade 6 at Cedar is not empty until the next import: it holds Maple's grade 5.
    assert Student.objects.filter(school=cedar, grade=6, active=True).count() == 2
    assert bands(maple) == (150, 148, 0, 0)
    assert bands(cedar) == (0, 0, 501, 0)


def test_a_chain_of_feeders_moves_each_top_grade_one_step(district, roster, maple, cedar):
    high = SchoolFactory(
        district=district,
        code="HIGH",
        lowest_grade=9,
        highest_grade=12,
        enrollment_pk_2=0,
        enrollment_3_5=0,
        enrollment_9_12=10,
    )
    cedar.feeds_into = high
    cedar.save()
    senior = StudentFactory(school=high, grade=12, local_id="H-12")
    rollover.run_rollover(district, "", by=None, today=JUNE)
    after = where()
    assert after["M-5"] == ("CEDAR", 6, True)  # one step only, not on to the high school
    assert after["C-8"] == ("HIGH", 9, True)
    assert after["H-12"] == ("HIGH", 12, False)
    senior.refresh_from_db()
    assert senior.leave_reason == LeaveReason.GRADUATED
    assert bands(high) == (0, 0, 0, 10)  # one in from Cedar, one graduated


def test_a_listed_leaver_in_the_top_grade_leaves_instead_of_moving(district, roster, cedar):
    rollover.run_rollover(district, "student_id,reason\nM-5B,transferred\n", by=None, today=JUNE)
    after = where()
    assert after["M-5"] == ("CEDAR", 6, True) and after["M-5B"] == ("MAPLE", 5, False)


def test_a_mover_still_holding_a_device_of_the_old_school_blocks_the_run(district, roster, maple):
    open_assignment(maple, student=roster["g5"], device=DeviceFactory(school=maple, asset_tag="T1"))
    plan = rollover.plan_rollover(district, "", today=JUNE)
    assert not plan.can_run
    assert (
        "Student M-5 moves to another school but still holds T1: collect it or mark it "
        "lost first." in plan.summary_lines()
    )
    with pytest.raises(ValidationError):
        rollover.run_rollover(district, "", by=None, today=JUNE)
    assert where()["M-5"] == ("MAPLE", 5, True)


def test_a_feeder_that_no_longer_continues_the_grades_refuses_the_run(district, roster, cedar):
    # Changed behind the form's back (the form refuses it): Cedar now starts at grade 7.
    School.objects.filter(pk=cedar.pk).update(lowest_grade=7)
    plan = rollover.plan_rollover(district, "", today=JUNE)
    assert not plan.can_run
    (problem,) = plan.feeder_errors
    assert problem.startswith("Feeder pattern: Maple Elementary → Cedar Middle: Cedar Middle")
    before = where()
    with pytest.raises(ValidationError):
        rollover.run_rollover(district, "", by=None, today=JUNE)
    assert where() == before and not RolloverRun.objects.exists()


def test_the_command_dry_run_prints_the_moves(district, roster):
    out = StringIO()
    call_command("rollover_year", "--district", "riverbend", "--dry-run", stdout=out)
    assert "  2 from Maple Elementary (grade 5) to Cedar Middle (grade 6)" in out.getvalue()
    assert where()["M-5"] == ("MAPLE", 5, True)
    call_command("rollover_year", "--district", "riverbend", stdout=out)
    assert "(2 to the next school)" in out.getvalue()
    assert where()["M-5"] == ("CEDAR", 6, True)


@pytest.mark.parametrize("size", [1, 12])
def test_the_plan_reads_a_fixed_number_of_queries(
    size, district, maple, cedar, django_assert_num_queries
):
    maple.feeds_into = cedar
    maple.save()
    for i in range(size):
        StudentFactory(school=maple, grade=5, local_id=f"M5-{i}")
        StudentFactory(school=cedar, grade=8, local_id=f"C8-{i}")
    # Done before, the schools, the students, the open assignments.
    with django_assert_num_queries(4):
        plan = rollover.plan_rollover(district, "", today=JUNE)
    assert len(plan.moves) == size
