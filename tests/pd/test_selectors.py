from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pd import selectors
from pd.models import AttendanceStatus, Feedback, Format, PDSession
from schools.models import Position, StaffMember
from tests.factories import (
    AttendanceFactory,
    LearningLeaderFactory,
    PDNeedsPollFactory,
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


# --- the reports page: its scope, its figures, its CSV files ----------------------------


def test_the_report_period_defaults_to_a_year_up_to_today(maple, cedar):
    from schools.models import School

    today = timezone.localdate()
    schools = School.objects.filter(pk__in=[maple.pk, cedar.pk])
    scope = selectors.report_scope(schools=schools, sessions=PDSession.objects.all())
    assert scope.period == selectors.Period.last_year(today) and scope.school is None
    later = today + timedelta(days=30)  # a start after today's end: a year up to the end
    scope = selectors.report_scope(schools=schools, sessions=PDSession.objects.all(), since=later)
    assert scope.period == selectors.Period.last_year(today)
    start = today - timedelta(days=10)
    scope = selectors.report_scope(
        schools=schools, sessions=PDSession.objects.all(), since=start, until=today
    )
    assert (scope.period.since, scope.period.until) == (start, today)


def test_a_chosen_school_narrows_staff_sessions_and_polls(maple, cedar):
    from schools.models import School

    ana = StaffMemberFactory(school=maple, full_name="Ana")
    StaffMemberFactory(school=cedar, full_name="Ben")
    mine = PDSessionFactory(schools=[maple])
    PDSessionFactory(schools=[cedar])
    PDNeedsPollFactory(school=maple)
    PDNeedsPollFactory(school=cedar)
    scope = selectors.report_scope(
        schools=School.objects.filter(pk__in=[maple.pk, cedar.pk]),
        sessions=PDSession.objects.all(),
        school=maple,
    )
    assert list(scope.staff) == [ana] and list(scope.sessions) == [mine]
    assert {p.school_id for p in scope.polls} == {maple.pk}


def _report_data(school, n):
    leader = LearningLeaderFactory(staff=StaffMemberFactory(school=school)).staff
    for i in range(n):
        kwargs = {"facilitator_user": None, "facilitator_staff": leader} if i % 2 else {}
        session = PDSessionFactory(schools=[school], **kwargs)
        for _ in range(3):
            AttendanceFactory(session=session, staff=StaffMemberFactory(school=school))
        Feedback.objects.create(session=session, rating=4, submitted_on=session.date)
    PDNeedsPollFactory(school=school)


@pytest.mark.parametrize("show", ["all", "below", "none"])
def test_the_report_costs_the_same_at_two_sizes(maple, show, django_assert_num_queries):
    from schools.models import School

    def build():
        scope = selectors.report_scope(
            schools=School.objects.filter(pk=maple.pk), sessions=PDSession.objects.all()
        )
        report = selectors.report(scope, show=show)
        return report, list(report.rows[:50])

    _report_data(maple, 2)
    with CaptureQueriesContext(connection) as small:
        build()
    _report_data(maple, 12)
    with django_assert_num_queries(len(small.captured_queries)):
        report, rows = build()
    assert report.show == show and report.summary.staff == 1 + 2 * 3 + 1 + 12 * 3
    assert len(report.chart_data["months"]) == len(report.months)
    if show == "none":  # the two Learning Leaders led and attended nothing
        assert len(rows) == 2 and all(r.sessions == 0 for r in rows)
    if show == "below":
        assert rows and all(r.below_target for r in rows)


def test_an_unknown_show_shows_everyone_and_an_unknown_export_is_none(maple):
    from schools.models import School

    scope = selectors.report_scope(
        schools=School.objects.filter(pk=maple.pk), sessions=PDSession.objects.all()
    )
    assert selectors.report(scope, show="<script>").show == "all"
    assert selectors.report_export(scope, "everything") is None
    for kind in selectors.REPORT_EXPORTS:
        table = selectors.report_export(scope, kind)
        assert table.filename.startswith(f"pd-{kind}-") and table.header


def test_the_roster_holds_only_schools_the_person_logs_pd_for(maple, cedar):
    from schools.models import School

    ana = StaffMemberFactory(school=maple, full_name="Ana")
    StaffMemberFactory(school=cedar, full_name="Ben")
    roster, count = selectors.attendee_roster(
        [maple.pk, cedar.pk], among=School.objects.filter(pk=maple.pk)
    )
    assert (roster, count) == ([ana], 1)
    assert selectors.attendee_roster([], among=School.objects.all()) == ([], 0)
