from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pd import selectors
from pd.models import AttendanceStatus, Format
from schools.models import Position, StaffMember
from tests.factories import (
    AttendanceFactory,
    LearningLeaderFactory,
    PDSessionFactory,
    StaffMemberFactory,
)


@pytest.fixture
def period():
    today = timezone.localdate()
    return selectors.Period.last_year(today)


def _rows(school, period):
    return {
        s.full_name: s
        for s in selectors.staff_hours(StaffMember.objects.filter(school=school), period)
    }


def test_hours_count_attended_only_with_partial_hours(maple, period):
    ana = StaffMemberFactory(school=maple, full_name="Ana")
    full = PDSessionFactory(schools=[maple], duration_minutes=90)
    other = PDSessionFactory(schools=[maple], duration_minutes=120, job_embedded=True)
    third = PDSessionFactory(schools=[maple], duration_minutes=60)
    AttendanceFactory(session=full, staff=ana)  # 1.5 h
    AttendanceFactory(session=other, staff=ana, hours=Decimal("0.75"))  # left early
    AttendanceFactory(session=third, staff=ana, status=AttendanceStatus.EXCUSED, hours=0)
    row = _rows(maple, period)["Ana"]
    assert row.hours == Decimal("2.25")
    assert row.sessions == 2  # the excused session is not PD received
    assert row.job_embedded_hours == Decimal("0.75")


def test_a_session_of_several_schools_counts_once_per_attendee(maple, cedar, period):
    ana = StaffMemberFactory(school=maple, full_name="Ana")
    ben = StaffMemberFactory(school=cedar, full_name="Ben")
    shared = PDSessionFactory(schools=[maple, cedar], duration_minutes=120)
    AttendanceFactory(session=shared, staff=ana)
    AttendanceFactory(session=shared, staff=ben)
    both = StaffMember.objects.filter(school__in=[maple, cedar])
    rows = {s.full_name: s for s in selectors.staff_hours(both, period)}
    assert (rows["Ana"].hours, rows["Ana"].sessions) == (Decimal(2), 1)
    assert (rows["Ben"].hours, rows["Ben"].sessions) == (Decimal(2), 1)
    assert selectors.hours_summary(both, period).hours == Decimal(4)


def test_sessions_outside_the_period_do_not_count(maple):
    ana = StaffMemberFactory(school=maple, full_name="Ana")
    today = timezone.localdate()
    AttendanceFactory(
        session=PDSessionFactory(schools=[maple], date=today - timedelta(days=40)), staff=ana
    )
    recent = selectors.Period(since=today - timedelta(days=30), until=today)
    assert _rows(maple, recent)["Ana"].sessions == 0
    assert _rows(maple, selectors.Period.last_year(today))["Ana"].sessions == 1


def test_target_is_prorated_and_applies_to_teaching_staff(maple):
    maple.district.pd_hour_target = Decimal(20)
    maple.district.save()
    today = timezone.localdate()
    half_year = selectors.Period(since=today - timedelta(days=182), until=today)  # 183 days
    teacher = StaffMemberFactory(school=maple, full_name="Teacher")
    StaffMemberFactory(school=maple, full_name="Para", position=Position.PARAPROFESSIONAL)
    session = PDSessionFactory(schools=[maple], duration_minutes=600)  # 10 h
    AttendanceFactory(session=session, staff=teacher)
    rows = _rows(maple, half_year)
    # 20 × 183 ÷ 365 = 10.03 h: ten hours is just below.
    assert rows["Teacher"].below_target is True
    assert rows["Para"].below_target is False  # the per-teacher target does not apply
    assert selectors.period_target(Decimal(20), half_year) == Decimal("10.0")
    summary = selectors.hours_summary(StaffMember.objects.filter(school=maple), half_year)
    assert (summary.below_target, summary.no_pd, summary.staff) == (1, 1, 2)
    assert (
        _rows(maple, selectors.Period(since=today - timedelta(days=100), until=today))[
            "Teacher"
        ].below_target
        is False
    )


def test_job_embedded_and_ongoing_shares(maple, period):
    ana = StaffMemberFactory(school=maple)
    AttendanceFactory(
        session=PDSessionFactory(schools=[maple], duration_minutes=60, job_embedded=True), staff=ana
    )
    AttendanceFactory(
        session=PDSessionFactory(schools=[maple], duration_minutes=180, ongoing_series=True),
        staff=ana,
    )
    summary = selectors.hours_summary(StaffMember.objects.filter(school=maple), period)
    assert summary.job_embedded_share == Decimal("25.0")
    assert summary.ongoing_share == Decimal("75.0")


def test_leader_reach_counts_distinct_colleagues(maple, coach, period):
    from pd.models import PDSession

    leader = LearningLeaderFactory(staff=StaffMemberFactory(school=maple)).staff
    a, b = StaffMemberFactory(school=maple), StaffMemberFactory(school=maple)
    for _ in range(2):
        s = PDSessionFactory(schools=[maple], facilitator_user=None, facilitator_staff=leader)
        AttendanceFactory(session=s, staff=a)
        AttendanceFactory(session=s, staff=b)
    coached = PDSessionFactory(schools=[maple], facilitator_user=coach)
    AttendanceFactory(session=coached, staff=a)
    reach = selectors.leader_reach(
        StaffMember.objects.filter(school=maple), PDSession.objects.all(), period
    )
    assert (reach["leader_sessions"], reach["leader_colleagues"]) == (2, 2)
    assert (reach["coach_sessions"], reach["coach_colleagues"]) == (1, 1)
    assert reach["leaders"][0]["sessions"] == 2


def test_feedback_means_by_format_and_needs_ranked(maple, period):
    from pd.models import Feedback, PDNeedsPoll, PDSession
    from pd.services import poll_answer
    from tests.factories import PDNeedsPollFactory

    s = PDSessionFactory(schools=[maple], format=Format.PLC)
    for rating in (5, 4):
        Feedback.objects.create(session=s, rating=rating, submitted_on=s.date)
    assert selectors.feedback_by_format(PDSession.objects.all(), period) == [
        {"format": "plc", "label": "PLC", "answers": 2, "mean": Decimal("4.50")}
    ]
    poll = PDNeedsPollFactory(school=maple)
    poll_answer(poll=poll, topics=["ai", "lms"])
    poll_answer(poll=poll, topics=["ai"])
    ranked = selectors.needs_ranked(PDNeedsPoll.objects.all())
    assert [(r["topic"], r["answers"]) for r in ranked] == [("ai", 2), ("lms", 1)]
