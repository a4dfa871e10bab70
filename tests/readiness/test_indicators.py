"""Every indicator on hand-built data with a known answer, and its "no evidence" case."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from equity.inventory.models import Assignment
from pd.models import Feedback
from readiness.indicators import REGISTRY, Context, cohort_year
from schools.models import Position
from tests.factories import (
    AttendanceFactory,
    DeviceFactory,
    DeviceModelFactory,
    LearningLeaderFactory,
    PDNeedsPollFactory,
    PDSessionFactory,
    SchoolFactory,
    StaffMemberFactory,
    StudentFactory,
)

from .helpers import initiative

pytestmark = pytest.mark.django_db


def read(key, *schools, today=None):
    ctx = Context(today=today or timezone.localdate())
    return REGISTRY[key].compute(list(schools), ctx)


def value(key, school, **kw):
    return read(key, school, **kw)[school.pk].value


def test_every_pillar_key_is_known_and_every_indicator_has_a_target_and_action():
    for spec in REGISTRY.values():
        assert spec.floor < spec.target <= spec.ceiling
        assert spec.weight > 0 and spec.action and spec.formula and spec.label


# --- spaces ------------------------------------------------------------------------------


def test_device_coverage_is_usable_devices_over_the_target(maple):
    # 300 students × 1.10 = 330 devices needed; 33 usable, 5 in repair.
    DeviceFactory.create_batch(33, school=maple)
    DeviceFactory.create_batch(5, school=maple, status="in_repair")
    reading = read("device_coverage", maple)[maple.pk]
    assert reading.value == pytest.approx(0.1)
    assert reading.evidence == 330


def test_device_coverage_without_enrollment_is_no_evidence(district):
    empty = SchoolFactory(district=district, enrollment_pk_2=0, enrollment_3_5=0)
    DeviceFactory(school=empty)
    assert value("device_coverage", empty) is None


def test_touch_coverage_counts_touch_devices_for_pk2_and_students_who_need_touch(maple):
    # Target: 150 PK–2 + 2 older students who need touch = 152.
    StudentFactory.create_batch(2, school=maple, grade=4, needs_touch=True)
    touch = DeviceModelFactory(district=maple.district, touchscreen=True)
    DeviceFactory.create_batch(38, school=maple, model=touch)
    DeviceFactory.create_batch(10, school=maple)  # not touch
    assert value("touch_coverage", maple) == pytest.approx(38 / 152)


def test_touch_coverage_of_a_school_without_young_or_touch_students_is_no_evidence(cedar):
    assert value("touch_coverage", cedar) is None


def test_home_connectivity_counts_home_internet_or_a_hotspot_among_known(maple, tech):
    StudentFactory.create_batch(6, school=maple, home_internet="yes")
    StudentFactory.create_batch(2, school=maple, home_internet="unknown")  # left out
    offline = StudentFactory.create_batch(4, school=maple, home_internet="no")
    hotspot = DeviceModelFactory(district=maple.district, kind="hotspot")
    Assignment.objects.create(
        device=DeviceFactory(school=maple, model=hotspot, status="assigned"),
        student=offline[0],
        is_hotspot=True,
        checked_out_at=timezone.now(),
    )
    StudentFactory(school=maple, home_internet="yes", active=False)  # left out
    reading = read("home_connectivity", maple)[maple.pk]
    assert reading.value == pytest.approx(7 / 10)
    assert reading.evidence == 10


def test_home_connectivity_with_only_unknown_answers_is_no_evidence(maple):
    StudentFactory.create_batch(3, school=maple, home_internet="unknown")
    assert value("home_connectivity", maple) is None


def test_pedagogy_plan_counts_active_initiatives_with_a_why_and_goals(maple):
    initiative(maple, why="Feedback", goals="Writing improves")
    initiative(maple, why="Feedback", goals="")
    initiative(maple, why="", goals="Goals")
    initiative(maple, status="idea", why="w", goals="g")  # not active
    initiative(maple, status="retired", why="w", goals="g")  # not active
    assert value("pedagogy_plan", maple) == pytest.approx(1 / 3)


def test_a_whole_district_initiative_counts_for_each_linked_school(maple, cedar):
    item = initiative(maple, whole_district=True, why="w", goals="g", measures="m")
    item.schools.add(cedar)
    readings = read("initiatives_measured", maple, cedar)
    assert readings[maple.pk].value == readings[cedar.pk].value == 1.0


def test_initiative_indicators_without_active_initiatives_are_no_evidence(maple):
    initiative(maple, status="idea", why="w", goals="g", measures="m")
    assert value("pedagogy_plan", maple) is None
    assert value("initiatives_measured", maple) is None


# --- engagement --------------------------------------------------------------------------


def test_initiatives_measured_needs_goals_and_a_success_measure(maple):
    initiative(maple, goals="g", measures="m")
    initiative(maple, goals="g")
    initiative(maple, measures="m")
    initiative(maple, status="pilot", goals="g", measures="m")
    assert value("initiatives_measured", maple) == pytest.approx(2 / 4)


# --- professional learning ---------------------------------------------------------------


def _hours(staff, hours, *, days_ago=10, **session):
    s = PDSessionFactory(
        schools=[staff.school],
        date=timezone.localdate() - timedelta(days=days_ago),
        duration_minutes=int(hours * 60),
        **session,
    )
    return AttendanceFactory(session=s, staff=staff)


def test_pd_hours_met_is_the_share_of_teaching_staff_at_the_target(maple):
    # District target: 20 hours in 12 months.
    a, b, c, d = StaffMemberFactory.create_batch(4, school=maple)
    _hours(a, 20)
    _hours(b, 12)
    _hours(b, 8)
    _hours(c, 19)
    _hours(d, 20, days_ago=400)  # outside the 12 months
    StaffMemberFactory(school=maple, position=Position.COUNSELOR)  # not teaching
    StaffMemberFactory(school=maple, active=False)  # left
    reading = read("pd_hours_met", maple)[maple.pk]
    assert reading.value == pytest.approx(2 / 4)
    assert reading.evidence == 4


def test_pd_hours_met_uses_the_districts_target(maple):
    a = StaffMemberFactory(school=maple)
    _hours(a, 10)
    assert value("pd_hours_met", maple) == 0
    maple.district.pd_hour_target = Decimal("10")
    maple.district.save()
    assert value("pd_hours_met", maple) == 1


def test_pd_indicators_without_teaching_staff_are_no_evidence(maple):
    StaffMemberFactory(school=maple, position=Position.ADMINISTRATOR)
    assert value("pd_hours_met", maple) is None
    assert value("learning_leaders", maple) is None
    assert value("pd_job_embedded", maple) is None
    assert value("pd_feedback", maple) is None


def test_job_embedded_share_counts_hours_that_are_embedded_or_ongoing_once(maple):
    a = StaffMemberFactory(school=maple)
    _hours(a, 2, job_embedded=True, ongoing_series=True)  # counted once
    _hours(a, 1, ongoing_series=True)
    _hours(a, 3)
    _hours(a, 4, days_ago=500, job_embedded=True)  # too old
    assert value("pd_job_embedded", maple) == pytest.approx(3 / 6)


def test_learning_leaders_per_teaching_staff_counts_the_current_cohort(maple):
    staff = StaffMemberFactory.create_batch(10, school=maple)
    year = cohort_year(timezone.localdate())
    LearningLeaderFactory(staff=staff[0], cohort_year=year)
    LearningLeaderFactory(staff=staff[1], cohort_year=year - 1)  # last year's cohort
    assert value("learning_leaders", maple) == pytest.approx(0.1)


def test_cohort_year_starts_in_july():
    from datetime import date

    assert cohort_year(date(2026, 6, 30)) == 2025
    assert cohort_year(date(2026, 7, 1)) == 2026


def test_pd_feedback_is_the_mean_rating_of_the_last_12_months(maple, cedar):
    today = timezone.localdate()
    shared = PDSessionFactory(schools=[maple, cedar])
    own = PDSessionFactory(schools=[maple])
    for session, rating, days in ((shared, 5, 1), (own, 3, 2), (own, 4, 3), (own, 1, 400)):
        Feedback.objects.create(
            session=session, rating=rating, submitted_on=today - timedelta(days=days)
        )
    readings = read("pd_feedback", maple, cedar)
    assert readings[maple.pk].value == pytest.approx(4.0)
    assert readings[maple.pk].evidence == 3
    assert readings[cedar.pk].value == pytest.approx(5.0)


def test_needs_poll_is_yes_only_for_a_poll_opened_in_the_last_12_months(maple, cedar):
    today = timezone.localdate()
    PDNeedsPollFactory(school=maple)
    PDNeedsPollFactory(
        school=cedar, opens_on=today - timedelta(days=400), closes_on=today - timedelta(days=390)
    )
    readings = read("needs_poll", maple, cedar)
    assert (readings[maple.pk].value, readings[cedar.pk].value) == (1.0, 0.0)
    assert readings[cedar.pk].evidence == 0  # zero polls is measured, not unknown


# --- communication -----------------------------------------------------------------------


def test_indicators_computed_as_of_an_earlier_day_ignore_later_records(maple):
    a = StaffMemberFactory(school=maple)
    _hours(a, 20, days_ago=3)
    earlier = timezone.localdate() - timedelta(days=7)
    assert value("pd_hours_met", maple) == 1
    assert value("pd_hours_met", maple, today=earlier) == 0
    assert value("pd_job_embedded", maple, today=earlier) is None
