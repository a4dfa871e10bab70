"""The year-end rollover: students move up, leavers are marked and kept, and nothing runs
while a leaver holds a device, a row of the list is wrong, or the year already ran."""

from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from equity.inventory import services
from equity.inventory.models import Assignment, LeaveReason, Student
from equity.year import rollover
from equity.year.models import RolloverRun
from tests.factories import DeviceFactory, StudentFactory, open_assignment

JUNE = date(2027, 6, 20)


@pytest.fixture
def roster(maple, cedar):
    """Maple teaches K-5, Cedar 6-8."""
    return {
        "k": StudentFactory(school=maple, grade=0, local_id="M-K"),
        "g4": StudentFactory(school=maple, grade=4, local_id="M-4"),
        "g5": StudentFactory(school=maple, grade=5, local_id="M-5"),
        "c6": StudentFactory(school=cedar, grade=6, local_id="C-6"),
        "c7": StudentFactory(school=cedar, grade=7, local_id="C-7"),
        "gone": StudentFactory(school=cedar, grade=7, local_id="C-GONE", active=False),
    }


def grades():
    return dict(Student.objects.values_list("local_id", "grade"))


def test_the_dry_run_says_what_would_change_and_writes_nothing(district, roster):
    plan = rollover.plan_rollover(district, "student_id,reason\nC-6,transferred\n", today=JUNE)
    assert plan.can_run
    assert plan.school_year == "2026-27"
    ids = {s.local_id: s.pk for s in Student.objects.all()}
    assert plan.promote == {ids["M-K"]: 1, ids["M-4"]: 5, ids["C-7"]: 8}
    assert plan.leavers == {ids["M-5"]: LeaveReason.COMPLETED, ids["C-6"]: LeaveReason.TRANSFERRED}
    lines = "\n".join(plan.summary_lines())
    assert "3 students move up a grade." in lines and "2 students leave." in lines
    assert grades()["M-K"] == 0 and not RolloverRun.objects.exists()


def test_the_real_run_moves_up_marks_leavers_and_keeps_history(district, roster, tech):
    before = grades()
    run = rollover.run_rollover(
        district, "student_id,reason\nc-6,transferred\n", by=tech, today=JUNE
    )
    after = grades()
    assert (run.promoted, run.leavers, run.school_year) == (3, 2, "2026-27")
    assert after["M-K"] == 1 and after["M-4"] == 5 and after["C-7"] == 8
    assert after["M-5"] == before["M-5"] and after["C-6"] == before["C-6"]
    left = {s.local_id: s for s in Student.objects.filter(active=False)}
    assert left["C-6"].leave_reason == LeaveReason.TRANSFERRED and left["C-6"].left_on == JUNE
    assert left["M-5"].leave_reason == LeaveReason.COMPLETED
    assert left["C-GONE"].left_on is None and after["C-GONE"] == 7  # already gone: untouched
    # Once per school year.
    with pytest.raises(ValidationError, match="already run"):
        rollover.run_rollover(district, "", by=tech, today=JUNE)
    assert grades() == after


def test_grade_12_graduates(district):
    from tests.factories import SchoolFactory

    high = SchoolFactory(district=district, code="HIGH", lowest_grade=9, highest_grade=12)
    senior = StudentFactory(school=high, grade=12)
    rollover.run_rollover(district, "", by=None, today=JUNE)
    senior.refresh_from_db()
    assert not senior.active and senior.leave_reason == LeaveReason.GRADUATED


def test_a_leaver_holding_a_device_blocks_the_run(district, roster, maple, tech):
    held = open_assignment(
        maple, student=roster["g5"], device=DeviceFactory(school=maple, asset_tag="OUT-1")
    )
    plan = rollover.plan_rollover(district, "", today=JUNE)
    assert plan.blockers == [("M-5", ["OUT-1"])]
    before = grades()
    with pytest.raises(ValidationError) as exc:
        rollover.run_rollover(district, "", by=tech, today=JUNE)
    assert "Student M-5 leaves but still holds OUT-1" in " ".join(exc.value.messages)
    assert grades() == before and not RolloverRun.objects.exists()
    # Marked lost: the assignment closes, so the rollover may run.
    services.device_report_missing(device=held.device, by=tech, circumstance="other")
    assert not Assignment.objects.filter(checked_in_at__isnull=True).exists()
    assert rollover.run_rollover(district, "", by=tech, today=JUNE).leavers == 1


def test_every_bad_row_is_named_and_nothing_changes(district, roster, tech):
    text = "student_id,reason\nC-6,transferred\n,graduated\nNOPE,transferred\nC-7,eloped\nc-6,\n"
    plan = rollover.plan_rollover(district, text, today=JUNE)
    assert [row for row, _ in plan.errors] == [3, 4, 5, 6]
    assert "No enrolled student with ID NOPE" in plan.errors[1][1]
    assert "also on row 2" in plan.errors[3][1]
    before = grades()
    with pytest.raises(ValidationError):
        rollover.run_rollover(district, text, by=tech, today=JUNE)
    assert grades() == before


def test_a_list_without_its_header_is_refused(district, roster):
    plan = rollover.plan_rollover(district, "C-6,transferred\n", today=JUNE)
    assert plan.errors == [(1, "The first row must name the columns: student_id, reason.")]


def test_the_command_dry_run_prints_and_the_real_run_writes(district, roster, tmp_path):
    leavers = tmp_path / "leavers.csv"
    leavers.write_text("student_id,reason\nC-7,withdrawn\n")
    out = StringIO()
    call_command(
        "rollover_year",
        "--district",
        "Riverbend",
        "--leavers",
        str(leavers),
        "--dry-run",
        stdout=out,
    )
    assert "students move up a grade" in out.getvalue()
    assert "Dry run: nothing was changed." in out.getvalue()
    assert grades()["M-K"] == 0
    call_command("rollover_year", "--district", "riverbend", "--leavers", str(leavers), stdout=out)
    assert grades()["M-K"] == 1
    assert Student.objects.get(local_id="C-7").leave_reason == LeaveReason.WITHDRAWN
    with pytest.raises(CommandError, match="refused"):
        call_command("rollover_year", "--district", "Riverbend", stdout=out, stderr=StringIO())


def test_the_command_names_an_unknown_district(district):
    with pytest.raises(CommandError, match="No district"):
        call_command("rollover_year", "--district", "Atlantis", "--dry-run", stdout=StringIO())
