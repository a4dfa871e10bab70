"""The district admin's PD report read from its summary (pd/summary.py): every number equals
the direct computation on two shapes of data and after every kind of PD write (each write
queues the count, which runs here in-process once the write commits); the page says when
the figures were counted, and whether a count waits or is held; the page and its CSV files
read the summary alone, at the same cost at two sizes; a district never counted is read
directly and queues its first count; the count waits for a writer of the district."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import PendingTask
from core.queue import task_key
from pd import hours, services, summary
from pd.models import (
    Attendance,
    CheckinMode,
    DistrictPDReport,
    DistrictPDStaffRow,
    Feedback,
    PDNeedsPoll,
    PDSession,
)
from pd.selectors import reports
from pd.tasks import move_hours_windows, refresh_district_report
from schools.dates import shown_datetime
from schools.models import School
from tests.factories import (
    AttendanceFactory,
    PDNeedsPollFactory,
    PDSessionFactory,
    StaffMemberFactory,
)
from tests.pd.test_tallies import SHAPES, _grow

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


def _sessions(district):
    links = PDSession.schools.through.objects.filter(school__district=district)
    return PDSession.objects.filter(pk__in=links.values("pdsession_id"))


def _summary_scope(district):
    return reports.report_scope(
        schools=School.objects.filter(district=district),
        sessions=_sessions(district),
        district_id=district.pk,
    )


def _needs_poll(school, today):
    poll = PDNeedsPollFactory(
        school=school, opens_on=today - timedelta(days=30), closes_on=today + timedelta(days=5)
    )
    services.poll_answer(poll=poll, topics=["classroom_technology", "assessment"])
    services.poll_answer(poll=poll, topics=["assessment"], other="Co-teaching")
    return poll


def assert_summary_is_direct(district):
    """Every figure the summarised page and its CSV files read equals the direct
    computation over every attendance, feedback and poll row."""
    scope = _summary_scope(district)
    assert scope.summarised
    staff, sessions, period = scope.staff, scope.sessions, scope.period
    assert period == reports.Period.last_year(period.until)
    assert scope.months() == reports.hours_by_month(staff, period)
    assert scope.mix() == reports.format_mix(staff, period)
    assert scope.feedback() == reports.feedback_by_format(sessions, period)
    assert scope.hours_summary() == reports.hours_summary(staff, period)
    polls = reports.polls_in(PDNeedsPoll.objects.filter(school__district=district), period)
    assert scope.needs() == reports.needs_ranked(polls)
    direct = reports.leader_reach(staff, sessions, period)
    every = scope.reach(every_leader=True)
    assert every.pop("leaders_total") == len(direct["leaders"])
    assert every == direct
    shown = scope.reach()
    assert shown["leaders"] == direct["leaders"][: reports.LEADERS_SHOWN]
    fields = ["pk", "full_name", "hours", "sessions", "job_embedded_hours", "below_target"]
    rows = reports.staff_hours(staff, period).order_by("hours", "full_name", "pk")
    for show, chosen in [
        ("all", rows),
        ("below", rows.filter(below_target=True)),
        ("none", rows.filter(sessions=0)),
    ]:
        got = list(reports.report_rows(scope, show).values(*fields))
        assert got == list(chosen.values(*fields)), show
    # The CSV files: the same cells as the report read live.
    live = reports.report_scope(schools=School.objects.filter(district=district), sessions=sessions)
    assert not live.summarised
    for kind in reports.REPORT_EXPORTS:
        ours, theirs = reports.report_export(scope, kind), reports.report_export(live, kind)
        assert (ours.filename, ours.header, list(ours.rows)) == (
            theirs.filename,
            theirs.header,
            list(theirs.rows),
        ), kind
    return scope


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kept", [True, False], ids=["kept", "never kept"])
def test_every_figure_of_the_summary_is_the_direct_one(
    shape, kept, district, maple, cedar, coach, today
):
    SHAPES[shape](maple, cedar, coach, today)
    _needs_poll(maple, today)
    if kept:
        hours.keep_window(district_id=district.pk, until=today)
    summary.refresh(district.pk)
    scope = assert_summary_is_direct(district)
    assert sum(h for _, h in scope.months()) > 0 and scope.feedback() and scope.needs()
    assert scope.reach(every_leader=True)["leaders"]
    assert (
        DistrictPDStaffRow.objects.filter(district=district).count()
        == scope.summary.figures["summary"]["staff"]
    )


@pytest.fixture
def counted(district, maple, cedar, coach, today):
    SHAPES["two schools"](maple, cedar, coach, today)
    hours.keep_window(district_id=district.pk, until=today)
    summary.refresh(district.pk)
    assert_summary_is_direct(district)
    return DistrictPDReport.objects.get(district=district)


@pytest.fixture
def counted_again(district, counted, django_capture_on_commit_callbacks):
    """Run a write; its commit queues the count, which runs here (tasks run in-process):
    afterwards the summary is newer, no longer stale, and equal to the direct figures."""

    def _after(write):
        before = DistrictPDReport.objects.get(district=district).refreshed_at
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            write()
        assert callbacks, "the write queued no count of the district's report"
        # Committed: a real commit empties the list (the capture only reads it).
        connection.run_on_commit.clear()
        report = DistrictPDReport.objects.get(district=district)
        assert report.refreshed_at > before and report.stale_since is None
        assert_summary_is_direct(district)

    return _after


def _log(maple, coach, today, people):
    session = PDSession(
        title="Questions that open thinking",
        date=today - timedelta(days=2),
        duration_minutes=120,
        format="plc",
        facilitator_user=coach,
    )
    services.session_log(session=session, schools=[maple], pillars=[], attendees=people, by=coach)
    return session


def test_after_logging_adding_and_editing_attendance(counted_again, maple, coach, today):
    session = None

    def log():
        nonlocal session
        session = _log(maple, coach, today, [StaffMemberFactory(school=maple)])

    counted_again(log)
    counted_again(
        lambda: services.attendees_add(
            session=session, staff=[StaffMemberFactory(school=maple)], by=coach
        )
    )
    rows = list(Attendance.objects.filter(session=session).order_by("pk"))
    counted_again(
        lambda: services.attendance_update(
            session=session,
            rows=[(rows[0], "attended", Decimal("0.5")), (rows[1], "absent", None)],
            by=coach,
        )
    )


@pytest.mark.parametrize(
    "change", ["duration", "facilitator", "date", "format", "schools", "title"], ids=str
)
def test_after_editing_a_session(counted_again, maple, cedar, coach, today, change):
    session = PDSession.objects.filter(facilitator_staff__isnull=False).order_by("date").last()
    data = {
        "duration": {"duration_minutes": 240},
        "facilitator": {"facilitator_staff": None, "facilitator_user": coach},
        "date": {"date": today - timedelta(days=400)},
        "format": {"format": "classroom_modelling"},
        "schools": {},
        "title": {"title": "Renamed"},
    }[change]
    schools = [maple] if change == "schools" else [maple, cedar]
    counted_again(
        lambda: services.session_update(
            session=session, data=data, schools=schools, pillars=[], by=coach
        )
    )


def test_after_a_check_in_and_feedback(counted_again, maple):
    person = StaffMemberFactory(school=maple, email="fay@maple.example.org")
    session = PDSessionFactory(schools=[maple], checkin_mode=CheckinMode.OPEN)
    code = services.checkin_code_request(session=session, email=person.email)
    counted_again(
        lambda: services.checkin_with_code(session=session, email=person.email, code=code.code)
    )
    counted_again(lambda: services.feedback_submit(session=session, rating=2, will_apply=""))
    counted_again(
        lambda: services.feedback_submit(session=session, rating=5, will_apply="", staff=person)
    )


def test_after_the_admins_edits_and_deletes(counted_again, admin_user):
    request = RequestFactory().post("/")
    request.user = admin_user
    feedback_admin = site._registry[Feedback]
    answer = Feedback.objects.order_by("pk").first()
    answer.rating = 1
    counted_again(lambda: feedback_admin.save_model(request, answer, None, True))
    counted_again(
        lambda: feedback_admin.delete_queryset(request, Feedback.objects.filter(pk=answer.pk))
    )
    session = PDSession.objects.order_by("date").last()
    counted_again(lambda: site._registry[PDSession].delete_model(request, session))


def test_after_a_needs_poll_and_its_answers(counted_again, maple, coach, today):
    poll = None

    def create():
        nonlocal poll
        poll = services.poll_create(
            school=maple, period="Spring", opens_on=today, closes_on=today, by=coach
        )

    counted_again(create)
    counted_again(lambda: services.poll_answer(poll=poll, topics=["assessment"]))


def test_changes_in_one_transaction_queue_one_count(
    district, counted, maple, coach, today, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        session = _log(maple, coach, today, [StaffMemberFactory(school=maple)])
        services.attendees_add(session=session, staff=[StaffMemberFactory(school=maple)], by=coach)
    queued = [c for c in callbacks if getattr(c, "purpose", None) == summary.PURPOSE]
    assert [c.district_id for c in queued] == [district.pk]


def test_a_second_change_while_a_count_waits_queues_nothing(district, counted):
    now = timezone.now()
    DistrictPDReport.objects.filter(district=district).update(stale_since=now)
    assert not summary.queue(district.pk, now=now + timedelta(seconds=5))
    # A count whose message was lost (not started long after its countdown) is queued again.
    assert summary.queue(district.pk, now=now + summary.LOST_AFTER + timedelta(minutes=2))


def test_the_nightly_run_counts_every_district(district, maple, cedar, coach, today):
    SHAPES["one school"](maple, cedar, coach, today)
    assert move_hours_windows() >= 1
    assert_summary_is_direct(district)
    assert refresh_district_report(district.pk)
    assert not refresh_district_report(987654)


# --- the page -----------------------------------------------------------------------------


def test_the_page_says_when_the_figures_were_counted(
    district, counted, login, district_admin, coach
):
    client = login(district_admin)
    url = reverse("pd:reports")
    response = client.get(url)
    assert response.context["summarised"]
    with timezone.override(ZoneInfo(district.time_zone)):
        as_of = shown_datetime(counted.refreshed_at)
    text = response.content.decode()
    assert f"Figures as of {as_of}." in text
    assert response.context["summary"] == _summary_scope(district).hours_summary()
    # A PD change since: a count waits, or is held while the job queue is down.
    stale = timezone.now()
    DistrictPDReport.objects.filter(district=district).update(stale_since=stale)
    assert "are being counted" in client.get(url).content.decode()
    key = task_key(refresh_district_report.name, [district.pk])
    PendingTask.objects.create(name=refresh_district_report.name, args=[district.pk], key=key)
    assert "held until the job queue is back" in client.get(url).content.decode()
    # A period or a school asked for is read live, as before.
    assert not client.get(url, {"school": counted.district.schools.first().pk}).context[
        "summarised"
    ]
    # A coach's report covers their school, not a whole district: read live.
    coach_page = login(coach).get(url)
    assert not coach_page.context["summarised"] and b"figures-as-of" not in coach_page.content


def test_a_district_never_counted_is_read_directly_and_queues_its_first_count(
    district, maple, cedar, coach, today, login, district_admin
):
    SHAPES["two schools"](maple, cedar, coach, today)
    hours.keep_window(district_id=district.pk, until=today)
    client = login(district_admin)
    first = client.get(reverse("pd:reports"))
    assert not first.context["summarised"]
    live = reports.report_scope(
        schools=School.objects.filter(district=district), sessions=_sessions(district)
    )
    assert first.context["summary"] == live.hours_summary()
    # Tasks run in-process here: the first count is done.
    assert DistrictPDReport.objects.get(district=district).refreshed_at is not None
    assert client.get(reverse("pd:reports")).context["summarised"]
    assert_summary_is_direct(district)


# Read by the summarised page and its CSV files: none of these (the summary alone).
NOT_READ = (
    '"pd_attendance"',
    '"pd_feedback"',
    '"pd_staffhours"',
    '"pd_leaderreach"',
    '"pd_sessiontally"',
    '"pd_feedbacktally"',
    '"pd_pdneedschoice"',
    '"schools_staffmember"',
)


@pytest.mark.parametrize(
    "query",
    [{}, {"show": "below"}, {"show": "none", "page": "2"}]
    + [{"export": kind} for kind in reports.REPORT_EXPORTS],
    ids=lambda q: "&".join(q.values()) or "page",
)
def test_the_district_report_reads_its_summary_at_a_constant_cost(
    query, district, maple, cedar, login, district_admin, django_assert_num_queries
):
    client = login(district_admin)
    url = reverse("pd:reports")

    def get():
        response = client.get(url, query)
        assert response.status_code == 200
        response.body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        )
        return response

    _grow(district, maple, cedar, 2)
    summary.refresh(district.pk)
    with CaptureQueriesContext(connection) as small:
        get()
    read = " ".join(q["sql"] for q in small.captured_queries)
    assert not [table for table in NOT_READ if table in read]
    _grow(district, maple, cedar, 60)  # more than a page of staff and of leaders
    summary.refresh(district.pk)
    with django_assert_num_queries(len(small.captured_queries)):
        response = get()
    if not query:
        assert response.context["summarised"]
        assert response.context["staff_count"] == response.context["summary"].staff
        assert response.context["leaders_total"] == 2 == len(response.context["leaders_shown"])
    if query.get("export") == "leaders":
        assert response.body.count(b"Learning Leader") == 3  # two leaders and "All ..."


# --- the count and the district's writers ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_count_waits_for_a_writer_of_the_district(row_locks, maple):
    """A check-in holds the district's PD writer lock until it commits; a count started
    meanwhile waits for it (its figures are all of one moment, not some before the check-in
    and some after), and
    counts the check-in. Two connections, the writer held open until the count waits."""
    from tests.locks import two_writers

    district_id = maple.district_id
    session = PDSessionFactory(schools=[maple], checkin_mode=CheckinMode.OPEN)
    AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple))
    summary.refresh(district_id)
    person = StaffMemberFactory(school=maple, email="ana@maple.example.org")

    def check_in():
        code = services.checkin_code_request(session=session, email=person.email)
        services.checkin_with_code(session=session, email=person.email, code=code.code)

    counted = []
    two_writers(
        check_in, lambda: counted.append(summary.refresh(district_id)), what="summary count"
    )
    # The count's own figures (the writer's commit also queues a count, run eagerly here,
    # which would mend the stored row if this one had read before the check-in).
    (mine,) = counted
    assert mine.figures["summary"]["staff"] == 2 and mine.figures["summary"]["no_pd"] == 0
    report = DistrictPDReport.objects.get(district_id=district_id)
    assert report.figures["summary"]["staff"] == 2 and report.figures["summary"]["no_pd"] == 0
    row_locks.assert_taken("pd.summary:refresh")


def test_a_write_leaves_a_district_never_asked_for_alone(
    district, maple, coach, today, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _log(maple, coach, today, [StaffMemberFactory(school=maple)])
    queued = [c for c in callbacks if getattr(c, "purpose", None) == summary.PURPOSE]
    assert [c.district_id for c in queued] == [district.pk]
    assert not DistrictPDReport.objects.exists()


def test_the_next_count_rewrites_only_what_changed(district, counted, maple, coach, today):
    """A person who left drops out of the staff table, a renamed school and new hours show,
    and an unchanged line is not rewritten (its row version stays on PostgreSQL)."""
    people = list(DistrictPDStaffRow.objects.filter(district=district).order_by("pk"))
    leaving, staying = people[0], people[-1]
    leaving.staff.active = False
    leaving.staff.save()
    School.objects.filter(pk=maple.pk).update(name="Maple Grove Elementary")
    _log(maple, coach, today, [StaffMemberFactory(school=maple)])

    def version(pk):
        with connection.cursor() as cursor:
            cursor.execute("SELECT xmin::text FROM pd_districtpdstaffrow WHERE staff_id = %s", [pk])
            return cursor.fetchone()[0]

    untouched = [r.pk for r in people if r.school_id != maple.pk and r.pk != leaving.pk]
    before = {pk: version(pk) for pk in untouched} if connection.vendor == "postgresql" else {}
    assert untouched
    summary.refresh(district.pk)
    assert_summary_is_direct(district)
    assert not DistrictPDStaffRow.objects.filter(pk=leaving.pk).exists()
    assert DistrictPDStaffRow.objects.filter(pk=staying.pk).exists()
    assert set(
        DistrictPDStaffRow.objects.filter(school=maple).values_list("school_name", flat=True)
    ) == {"Maple Grove Elementary"}
    assert before == {pk: version(pk) for pk in before}
