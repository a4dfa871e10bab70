import csv
import io
from xml.etree import ElementTree

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pd.models import Attendance, Feedback, PDSession, PDSessionChange
from schools.models import Role
from tests.factories import (
    AttendanceFactory,
    LearningLeaderFactory,
    MembershipFactory,
    PDNeedsPollFactory,
    PDSessionFactory,
    StaffMemberFactory,
)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
        b"".join(response.streaming_content) if response.streaming else response.content
    return len(ctx.captured_queries)


def test_a_coach_logs_a_session_with_attendees(login, coach, maple):
    client = login(coach)
    people = [StaffMemberFactory(school=maple) for _ in range(5)]
    page = client.get(reverse("pd:session_new"))
    form = page.context["form"]
    assert form.initial["date"] == timezone.localdate()
    assert form.initial["schools"] == [maple]
    assert form.initial["facilitator"] == f"u{coach.pk}"
    for person in people:
        assert f'value="{person.pk}"'.encode() in page.content
    response = client.post(
        reverse("pd:session_new"),
        {
            "schools": [maple.pk],
            "title": "Exit tickets",
            "date": timezone.localdate().isoformat(),
            "duration_minutes": 45,
            "format": "plc",
            "facilitator": f"u{coach.pk}",
            "attendees": [p.pk for p in people],
            "job_embedded": "on",
            "allow_named_feedback": "on",
        },
    )
    session = PDSession.objects.get()
    assert response.status_code == 302 and response["Location"] == session.get_absolute_url()
    assert session.created_by == coach and session.job_embedded
    assert Attendance.objects.filter(session=session, hours=session.hours).count() == 5
    # The next session defaults to the format this coach used last.
    assert client.get(reverse("pd:session_new")).context["form"].initial["format"] == "plc"


def test_the_log_form_refuses_attendees_of_another_school(login, coach, maple, cedar):
    stranger = StaffMemberFactory(school=cedar)
    MembershipFactory(user=coach, school=cedar, role=Role.COACH)
    response = login(coach).post(
        reverse("pd:session_new"),
        {
            "schools": [maple.pk],
            "title": "T",
            "date": timezone.localdate().isoformat(),
            "duration_minutes": 60,
            "format": "workshop",
            "facilitator": f"u{coach.pk}",
            "attendees": [stranger.pk],
        },
    )
    assert response.status_code == 200
    assert "Not on the roster of the chosen schools" in str(response.context["form"].errors)
    assert not PDSession.objects.exists()


def test_the_roster_partial_lists_active_staff_of_the_school(login, coach, maple):
    StaffMemberFactory(school=maple, full_name="Active Annie")
    StaffMemberFactory(school=maple, full_name="Gone Gary", active=False)
    response = login(coach).get(
        reverse("pd:roster_partial", args=[maple.pk]), headers={"HX-Request": "true"}
    )
    assert b"Active Annie" in response.content and b"Gone Gary" not in response.content
    assert b"<h1" not in response.content


def test_tech_staff_may_not_use_pd(login, tech, cedar):
    client = login(tech)
    assert client.get(reverse("pd:session_list")).status_code == 403
    assert client.get(reverse("pd:reports")).status_code == 403
    session = PDSessionFactory(schools=[cedar])
    assert (
        client.post(reverse("pd:checkin_toggle", args=[session.pk]), {"mode": "open"}).status_code
        == 403
    )


def test_session_page_shows_attendance_feedback_and_qr(login, coach, maple):
    session = PDSessionFactory(schools=[maple], title="Slides together")
    AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple, full_name="Ana"))
    Feedback.objects.create(
        session=session, rating=4, will_apply="Group decks", submitted_on=session.date
    )
    client = login(coach)
    page = client.get(session.get_absolute_url())
    assert (
        b"Ana" in page.content and b"Group decks" in page.content and b"anonymous" in page.content
    )
    assert session.checkin_token.encode() in page.content
    qr = client.get(reverse("pd:checkin_qr", args=[session.pk]))
    # A standalone SVG document: without its namespace a browser draws nothing.
    assert qr["Content-Type"] == "image/svg+xml"
    root = ElementTree.fromstring(qr.content)  # noqa: S314 - our own response
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_attendance_edits_and_additions_are_logged(login, coach, maple):
    session = PDSessionFactory(schools=[maple], duration_minutes=120)
    a = AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple))
    late = StaffMemberFactory(school=maple)
    client = login(coach)
    url = reverse("pd:attendance", args=[session.pk])
    client.post(url, {f"status-{a.pk}": "attended", f"hours-{a.pk}": "1.5"})
    a.refresh_from_db()
    assert str(a.hours) == "1.50"
    client.post(url, {"add": "1", "staff": [late.pk]})
    assert Attendance.objects.filter(session=session, staff=late).exists()
    assert PDSessionChange.objects.filter(session=session, changed_by=coach).count() == 2
    page = client.get(session.get_absolute_url())
    assert b"Cory Coach" in page.content and b"Attended 2h" in page.content


def test_editing_a_session_records_the_change(login, coach, maple):
    session = PDSessionFactory(schools=[maple], facilitator_user=coach, title="Old")
    client = login(coach)
    form = client.get(reverse("pd:session_edit", args=[session.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(title="New", schools=[maple.pk], date=session.date.isoformat())
    data.pop("start_time", None)
    response = client.post(reverse("pd:session_edit", args=[session.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    change = PDSessionChange.objects.get()
    assert change.changed_by == coach and change.changes["Title"] == ["Old", "New"]


def test_checkin_toggle_and_feedback_requests(login, coach, maple, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    session = PDSessionFactory(schools=[maple])
    AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple, email="a@m.org"))
    client = login(coach)
    client.post(reverse("pd:checkin_toggle", args=[session.pk]), {"mode": "closed"})
    session.refresh_from_db()
    assert session.checkin_mode == "closed"
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("pd:feedback_request", args=[session.pk]))
    assert [m.to for m in mail.outbox] == [["a@m.org"]]


# --- public links ---------------------------------------------------------------------


# The check-in and feedback links: tests/pd/test_public_links.py.


def test_poll_answer_and_results(client, login, coach, maple):
    poll = PDNeedsPollFactory(school=maple)
    response = client.post(reverse("pd:poll_answer", args=[poll.token]), {"topics": ["ai", "lms"]})
    assert b"Thank you" in response.content
    client.post(reverse("pd:poll_answer", args=[poll.token]), {"topics": ["ai"], "other": "Robots"})
    results = login(coach).get(reverse("pd:poll_results", args=[poll.pk]))
    ranked = results.context["ranked"]
    assert [(r["topic"], r["answers"]) for r in ranked] == [("ai", 2), ("lms", 1)]
    assert b"Robots" in results.content


def test_leaders_page_nominates_with_leadership_help_text(login, coach, maple):
    ana = StaffMemberFactory(school=maple, full_name="Ana Leader")
    client = login(coach)
    page = client.get(reverse("pd:leaders", args=[maple.pk]))
    assert b"not technical skill" in page.content
    client.post(
        reverse("pd:leaders", args=[maple.pk]),
        {"staff": ana.pk, "cohort_year": 2025, "why_nominated": "Colleagues follow her."},
    )
    assert ana.learning_leader_terms.get().nominated_by == coach


def test_polls_page_creates_a_poll(login, coach, maple):
    today = timezone.localdate()
    response = login(coach).post(
        reverse("pd:polls", args=[maple.pk]),
        {"period": "Spring", "opens_on": today.isoformat(), "closes_on": today.isoformat()},
    )
    assert response.status_code == 302
    assert maple.pd_polls.get().created_by == coach


# --- lists, reports, query counts ---------------------------------------------------------


def _data(maple, n):
    leader = LearningLeaderFactory(staff=StaffMemberFactory(school=maple)).staff
    for i in range(n):
        kwargs = {"facilitator_user": None, "facilitator_staff": leader} if i % 2 else {}
        s = PDSessionFactory(schools=[maple], **kwargs)
        for _ in range(3):
            AttendanceFactory(session=s, staff=StaffMemberFactory(school=maple))
        Feedback.objects.create(session=s, rating=4, submitted_on=s.date)
    PDNeedsPollFactory(school=maple)


@pytest.mark.parametrize("name", ["pd:session_list", "pd:reports", "pd:calendar"])
def test_page_queries_do_not_grow_with_the_data(name, login, coach, maple):
    client = login(coach)
    url = reverse(name)
    _data(maple, 2)
    small = _count(client, url)
    _data(maple, 12)
    assert _count(client, url) == small, name


def test_the_list_filters_by_pillar_and_facilitator(login, coach, maple):
    from pd.models import SessionPillar

    a = PDSessionFactory(schools=[maple], title="Alpha session")
    SessionPillar.objects.create(session=a, pillar="spaces")
    PDSessionFactory(schools=[maple], title="Beta session")
    client = login(coach)
    only = client.get(reverse("pd:session_list"), {"pillar": "spaces"})
    assert b"Alpha session" in only.content and b"Beta session" not in only.content
    by = client.get(reverse("pd:session_list"), {"facilitator": f"u{a.facilitator_user_id}"})
    assert b"Alpha session" in by.content and b"Beta session" not in by.content
    cal = client.get(reverse("pd:calendar"), {"month": a.date.strftime("%Y-%m")})
    assert b"Alpha session" in cal.content


def test_a_busy_calendar_day_lists_three_sessions_and_links_to_the_rest(login, coach, maple):
    from datetime import time, timedelta

    busy = timezone.localdate().replace(day=10)
    for hour in (15, 9, 13, 11, 8):
        PDSessionFactory(schools=[maple], date=busy, start_time=time(hour), title=f"At {hour}h")
    PDSessionFactory(schools=[maple], date=busy + timedelta(days=1), title="Next day")
    client = login(coach)
    cal = client.get(reverse("pd:calendar"), {"month": busy.strftime("%Y-%m"), "format": ""})
    page = cal.content.decode()
    # The day's first three by start time, then a link to the day's list.
    assert "At 8h" in page and "At 9h" in page and "At 11h" in page
    assert "At 13h" not in page and "At 15h" not in page and "Next day" in page
    more = f"{reverse('pd:session_list')}?day={busy.isoformat()}&amp;format="
    assert f'<a href="{more}">2 more<span class="visually-hidden"> sessions on' in page
    day = client.get(reverse("pd:session_list"), {"day": busy.isoformat(), "format": ""})
    listed = day.content.decode()
    assert all(f"At {hour}h" in listed for hour in (8, 9, 11, 13, 15))
    assert "Next day" not in listed


def test_a_day_that_is_no_date_is_named_on_its_field(login, coach, maple):
    PDSessionFactory(schools=[maple], title="Still listed")
    page = login(coach).get(reverse("pd:session_list"), {"day": "31/31/2026"})
    assert page.status_code == 200
    assert page.context["filter"].form.errors["day"] == ["Enter a valid date."]
    assert b"Still listed" in page.content


def test_reports_answer_who_has_not_been_reached(login, coach, maple):
    reached = StaffMemberFactory(school=maple, full_name="Reached Rita")
    StaffMemberFactory(school=maple, full_name="Unreached Uma")
    AttendanceFactory(session=PDSessionFactory(schools=[maple], job_embedded=True), staff=reached)
    client = login(coach)
    page = client.get(reverse("pd:reports"), {"show": "none"})
    assert b"Unreached Uma" in page.content and b"Reached Rita" not in page.content
    assert page.context["summary"].job_embedded_share == 100
    export = client.get(reverse("pd:reports"), {"export": "hours"})
    body = b"".join(export.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][0] == "Staff" and {r[0] for r in rows[1:]} == {"Reached Rita", "Unreached Uma"}
    for kind in ("leaders", "feedback", "needs"):
        assert client.get(reverse("pd:reports"), {"export": kind})["Content-Type"].startswith(
            "text/csv"
        )


# --- logging the same session twice ------------------------------------------------------


def _log(client, school, coach, **changes):
    data = {
        "schools": [school.pk],
        "title": "Exit tickets",
        "date": "2026-03-05",
        "start_time": "15:30",
        "duration_minutes": 45,
        "format": "plc",
        "facilitator": f"u{coach.pk}",
        "attendees": [],
    }
    data.update(changes)
    return client.post(reverse("pd:session_new"), data)


@pytest.mark.parametrize(
    "same",
    [
        {},  # everything
        {"title": "  exit   TICKETS ", "start_time": ""},  # the title, case and spacing aside
        {"title": "Exit slips"},  # the start time
    ],
)
def test_logging_the_same_session_twice_warns_and_the_coach_confirms(same, login, coach, maple):
    client = login(coach)
    assert _log(client, maple, coach).status_code == 302
    first = PDSession.objects.get()
    warned = _log(client, maple, coach, **same)
    assert warned.status_code == 200 and PDSession.objects.count() == 1
    assert [s.pk for s in warned.context["duplicates"]] == [first.pk]
    content = warned.content.decode()
    assert "This session looks already logged" in content
    assert f'href="{first.get_absolute_url()}"' in content  # go to the existing one
    assert 'name="log_anyway" value="on"' in content
    # The form keeps what was typed.
    assert warned.context["form"]["title"].value() == same.get("title", "Exit tickets")
    confirmed = _log(client, maple, coach, log_anyway="on", **same)
    assert confirmed.status_code == 302 and PDSession.objects.count() == 2


@pytest.mark.parametrize(
    "other",
    [{"date": "2026-03-06"}, {"title": "Exit slips", "start_time": "08:00"}, {"school": "cedar"}],
)
def test_a_different_session_logs_without_a_warning(other, login, coach, maple, cedar):
    MembershipFactory(user=coach, school=cedar, district=cedar.district, role=Role.COACH)
    client = login(coach)
    assert _log(client, maple, coach).status_code == 302
    school = cedar if other.pop("school", None) else maple
    assert _log(client, school, coach, **other).status_code == 302
    assert PDSession.objects.count() == 2


def test_a_shared_session_warns_at_any_of_its_schools(login, coach, district_admin, maple, cedar):
    client = login(district_admin)
    assert _log(client, maple, coach, schools=[maple.pk, cedar.pk]).status_code == 302
    warned = _log(client, cedar, coach)
    assert len(warned.context["duplicates"]) == 1 and PDSession.objects.count() == 1


@pytest.mark.parametrize(
    "name", ["pd:session_detail", "pd:session_edit", "pd:checkin_qr"], ids=lambda n: n[3:]
)
def test_a_sessions_pages_cost_the_same_whatever_the_session_holds(
    name, login, coach, district_admin, maple
):
    """A coach's session without initiative, changes or feedback, and a Learning Leader's
    with an initiative, attendees, feedback and a change log (after more data): the same
    queries. An optional relation loaded lazily only when set is what this catches."""
    from tests.factories import InitiativeFactory, LearningLeaderFactory

    plain = PDSessionFactory(schools=[maple], created_by=coach)
    leader = LearningLeaderFactory(staff=StaffMemberFactory(school=maple)).staff
    full = PDSessionFactory(
        schools=[maple],
        facilitator_user=None,
        facilitator_staff=leader,
        initiative=InitiativeFactory(schools=[maple]),
        created_by=coach,
    )
    for _ in range(3):
        AttendanceFactory(session=full, staff=StaffMemberFactory(school=maple))
    Feedback.objects.create(
        session=full, rating=4, will_apply="Exit tickets", submitted_on=full.date
    )
    PDSessionChange.objects.create(session=full, changed_by=coach, changes={"Title": ["a", "b"]})
    _data(maple, 6)
    for user in (coach, district_admin):
        client = login(user)
        counts = [_count(client, reverse(name, args=[s.pk])) for s in (plain, full)]
        assert counts[0] == counts[1], (user, counts)
