"""The reports over a district read kept figures (pd.hours: StaffHours, LeaderReach,
SessionTally, FeedbackTally), never every attendance or feedback row: each figure read from
them equals the direct computation, on two shapes of data and after every kind of write,
and the page and its exports read no attendance or feedback row and cost the same number of
queries at two sizes."""

import ast
import inspect
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pd import hours, services
from pd.models import Attendance, CheckinMode, Feedback, HoursWindow, PDSession
from pd.selectors import reports
from schools.models import School
from tests.factories import (
    AttendanceFactory,
    LearningLeaderFactory,
    PDNeedsPollFactory,
    PDSessionFactory,
    StaffMemberFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


def _one_school(maple, cedar, coach, today):
    """One school: coaches and a Learning Leader, partial hours, an excused attendee,
    named and anonymous feedback, a session before the twelve months."""
    leader = LearningLeaderFactory(staff=StaffMemberFactory(school=maple)).staff
    people = [StaffMemberFactory(school=maple) for _ in range(4)]
    for i in range(6):
        led = {"facilitator_user": None, "facilitator_staff": leader} if i % 2 else {}
        session = PDSessionFactory(
            schools=[maple],
            date=today - timedelta(days=40 * i + 1),
            format=["workshop", "plc", "online_course"][i % 3],
            job_embedded=i % 2 == 0,
            **led,
        )
        for j, person in enumerate(people[: 2 + i % 3]):
            if j == 1 and i == 2:
                AttendanceFactory(session=session, staff=person, status="excused", hours=0)
            elif j == 0 and i == 3:
                AttendanceFactory(session=session, staff=person, hours=Decimal("0.75"))
            else:
                AttendanceFactory(session=session, staff=person)
        Feedback.objects.create(session=session, rating=1 + i % 5, submitted_on=session.date)
        Feedback.objects.create(
            session=session, staff=people[0], rating=5, submitted_on=session.date
        )
    old = PDSessionFactory(schools=[maple], date=today - timedelta(days=500))
    AttendanceFactory(session=old, staff=people[0])
    Feedback.objects.create(session=old, rating=2, submitted_on=old.date)


def _two_schools(maple, cedar, coach, today):
    """Two schools: a session shared by both, a Learning Leader teaching at both, two
    leaders reaching the same person, someone who has since left, a school without PD."""
    first = LearningLeaderFactory(staff=StaffMemberFactory(school=maple)).staff
    second = LearningLeaderFactory(staff=StaffMemberFactory(school=cedar)).staff
    ana, ben = StaffMemberFactory(school=maple), StaffMemberFactory(school=maple)
    cy, gone = StaffMemberFactory(school=cedar), StaffMemberFactory(school=cedar)
    shared = PDSessionFactory(
        schools=[maple, cedar],
        date=today - timedelta(days=20),
        facilitator_user=None,
        facilitator_staff=first,
        ongoing_series=True,
    )
    for person in (ana, cy, gone):
        AttendanceFactory(session=shared, staff=person)
    by_second = PDSessionFactory(
        schools=[cedar],
        date=today - timedelta(days=200),
        facilitator_user=None,
        facilitator_staff=second,
        format="conference",
    )
    AttendanceFactory(session=by_second, staff=cy, hours=Decimal("1.25"))
    AttendanceFactory(session=by_second, staff=gone)
    coached = PDSessionFactory(schools=[maple], date=today - timedelta(days=300))
    AttendanceFactory(session=coached, staff=ben)
    AttendanceFactory(session=coached, staff=ana, status="absent", hours=0)
    Feedback.objects.create(session=shared, rating=4, submitted_on=shared.date)
    Feedback.objects.create(session=by_second, staff=cy, rating=3, submitted_on=today)
    gone.active = False
    gone.save()


SHAPES = {"one school": _one_school, "two schools": _two_schools}


def _scope(district, school=None, since=None):
    schools = School.objects.filter(district=district)
    return reports.report_scope(
        schools=schools, sessions=PDSession.objects.all(), school=school, since=since
    )


def assert_tallies_equal_direct(district, school=None, since=None):
    """Every figure of the report as the page reads it equals its direct computation."""
    scope = _scope(district, school, since)
    assert scope.tallied
    staff, sessions, period = scope.staff, scope.sessions, scope.period
    assert scope.months() == reports.hours_by_month(staff, period)
    assert scope.mix() == reports.format_mix(staff, period)
    assert scope.feedback() == reports.feedback_by_format(sessions, period)
    assert scope.reach() == reports.leader_reach(staff, sessions, period)
    assert scope.hours_summary() == reports.hours_summary(staff, period)
    fields = ["pk", "hours", "sessions", "job_embedded_hours", "below_target"]
    direct = reports.staff_hours(staff, period).order_by("hours", "full_name", "pk")
    assert list(reports.report_rows(scope).values(*fields)) == list(direct.values(*fields))
    return scope


@pytest.mark.parametrize("shape", SHAPES)
def test_every_figure_read_from_the_tallies_is_the_direct_one(
    shape, district, maple, cedar, coach, today
):
    SHAPES[shape](maple, cedar, coach, today)
    hours.keep_window(district_id=district.pk, until=today)
    scope = assert_tallies_equal_direct(district)
    assert scope.kept_since is not None
    assert sum(h for _, h in scope.months()) > 0 and scope.feedback() and scope.reach()["leaders"]
    assert_tallies_equal_direct(district, school=maple)
    assert_tallies_equal_direct(district, school=cedar)
    # A period asked for: the per-session tallies still serve it.
    chosen = assert_tallies_equal_direct(district, since=today - timedelta(days=45))
    assert chosen.kept_since is None


@pytest.fixture
def kept(district, maple, cedar, coach, today):
    _two_schools(maple, cedar, coach, today)
    hours.keep_window(district_id=district.pk, until=today)
    assert_tallies_equal_direct(district)
    return PDSession.objects.order_by("date")


def test_after_logging_adding_and_editing_attendance(district, kept, maple, coach, today):
    ana = StaffMemberFactory(school=maple)
    session = PDSession(
        title="Questions that open thinking",
        date=today - timedelta(days=2),
        duration_minutes=120,
        format="plc",
        facilitator_user=coach,
    )
    services.session_log(session=session, schools=[maple], pillars=[], attendees=[ana], by=coach)
    assert_tallies_equal_direct(district)
    services.attendees_add(session=session, staff=[StaffMemberFactory(school=maple)], by=coach)
    assert_tallies_equal_direct(district)
    rows = list(Attendance.objects.filter(session=session).order_by("pk"))
    services.attendance_update(
        session=session,
        rows=[(rows[0], "attended", Decimal("0.5")), (rows[1], "absent", None)],
        by=coach,
    )
    assert_tallies_equal_direct(district, school=maple)


@pytest.mark.parametrize("change", ["duration", "facilitator", "date", "format"], ids=lambda c: c)
def test_after_editing_a_session(district, kept, maple, cedar, coach, today, change):
    session = kept.filter(facilitator_staff__isnull=False).last()  # the shared one
    data = {
        "duration": {"duration_minutes": 240},
        "facilitator": {"facilitator_staff": None, "facilitator_user": coach},
        "date": {"date": today - timedelta(days=400)},
        "format": {"format": "classroom_modelling"},
    }[change]
    services.session_update(
        session=session, data=data, schools=[maple, cedar], pillars=[], by=coach
    )
    assert_tallies_equal_direct(district)


def test_after_a_check_in_and_feedback(district, kept, maple):
    person = StaffMemberFactory(school=maple, email="fay@maple.example.org")
    session = PDSessionFactory(schools=[maple], checkin_mode=CheckinMode.OPEN)
    code = services.checkin_code_request(session=session, email=person.email)
    services.checkin_with_code(session=session, email=person.email, code=code.code)
    services.feedback_submit(session=session, rating=2, will_apply="")
    services.feedback_submit(session=session, rating=5, will_apply="", staff=person)
    assert_tallies_equal_direct(district)


def test_after_the_admins_edits_and_deletes(district, kept, admin_user):
    request = RequestFactory().post("/")
    request.user = admin_user
    feedback_admin = site._registry[Feedback]
    answer = Feedback.objects.order_by("pk").first()
    answer.rating = 1
    feedback_admin.save_model(request, answer, None, True)
    assert_tallies_equal_direct(district)
    feedback_admin.delete_queryset(request, Feedback.objects.filter(pk=answer.pk))
    assert_tallies_equal_direct(district)
    site._registry[PDSession].delete_model(request, kept.last())
    assert_tallies_equal_direct(district)


def test_every_write_of_attendance_or_feedback_in_the_services_keeps_the_tallies():
    """A public function of pd.services that writes attendance counts its sessions again,
    one that writes feedback counts its feedback again: a new write path cannot forget."""
    text = inspect.getsource(services)
    attendance = ("Attendance.objects.bulk_create", "Attendance.objects.bulk_update", "_check_in(")
    feedback = ("Feedback.objects.create", "Feedback.objects.update_or_create")
    missing = []
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            source = ast.get_source_segment(text, node)
            if any(w in source for w in attendance) and "kept_hours.sessions_tallied" not in source:
                missing.append(node.name)
            if any(w in source for w in feedback) and "kept_hours.feedback_tallied" not in source:
                missing.append(node.name)
    assert not missing, missing


# --- the page and its exports: no attendance read, the same queries at two sizes --------

REPORT_URLS = [
    {},
    {"show": "below"},
    {"show": "none", "page": "2"},
    {"export": "hours"},
    {"export": "leaders"},
    {"export": "feedback"},
    {"export": "needs"},
]


def _grow(district, maple, cedar, n):
    leader = LearningLeaderFactory(staff=StaffMemberFactory(school=maple)).staff
    for i in range(n):
        school = (maple, cedar)[i % 2]
        led = {"facilitator_user": None, "facilitator_staff": leader} if i % 3 else {}
        session = PDSessionFactory(schools=[school], **led)
        for _ in range(3):
            AttendanceFactory(session=session, staff=StaffMemberFactory(school=school))
        Feedback.objects.create(session=session, rating=3, submitted_on=session.date)
    PDNeedsPollFactory(school=maple)
    hours.keep_window(district_id=district.pk, until=timezone.localdate())


@pytest.mark.parametrize("query", REPORT_URLS, ids=lambda q: "&".join(q.values()) or "page")
def test_the_district_report_reads_kept_figures_at_a_constant_cost(
    query, district, maple, cedar, login, district_admin, django_assert_num_queries
):
    client = login(district_admin)
    url = reverse("pd:reports")
    # One school chosen: read from the kept figures (the whole district's default report is
    # read from its summary, tests/pd/test_summary.py).
    query = {**query, "school": maple.pk}

    def get():
        response = client.get(url, query)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
        return response

    _grow(district, maple, cedar, 2)
    with CaptureQueriesContext(connection) as small:
        get()
    read = " ".join(q["sql"] for q in small.captured_queries)
    assert '"pd_attendance"' not in read and '"pd_feedback"' not in read
    _grow(district, maple, cedar, 60)  # more than a page of staff and of leaders
    with django_assert_num_queries(len(small.captured_queries)):
        response = get()
    if not query:
        assert HoursWindow.objects.filter(district=district).exists()
        assert response.context["staff_count"] == response.context["summary"].staff
        assert len(response.context["leaders_shown"]) <= reports.LEADERS_SHOWN
