from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from pd import services
from pd.models import Attendance, AttendanceStatus, CheckinMode, Feedback, PDSessionChange
from tests.factories import (
    AttendanceFactory,
    LearningLeaderFactory,
    PDSessionFactory,
    StaffMemberFactory,
)


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def session(maple):
    return PDSessionFactory(schools=[maple], start_time=time(15, 0), duration_minutes=90)


def test_check_in_marks_the_attendee_once(session, maple):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    during = _at(session.date, 15, 30)
    attendance, new = services.self_check_in(
        session=session, email="ANA@maple.example.org ", now=during
    )
    assert new and attendance.staff == ana and attendance.hours == Decimal("1.50")
    assert attendance.status == AttendanceStatus.ATTENDED
    again, new = services.self_check_in(session=session, email="ana@maple.example.org", now=during)
    assert not new and again.pk == attendance.pk
    assert Attendance.objects.count() == 1


def test_check_in_turns_an_absence_into_attendance(session, maple):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    AttendanceFactory(session=session, staff=ana, status=AttendanceStatus.ABSENT, hours=0)
    attendance, new = services.self_check_in(
        session=session, email=ana.email, now=_at(session.date, 16)
    )
    assert (
        new
        and attendance.status == AttendanceStatus.ATTENDED
        and attendance.hours == Decimal("1.50")
    )


def test_check_in_is_open_only_around_the_session(session, maple):
    StaffMemberFactory(school=maple, email="ana@maple.example.org")
    too_early = _at(session.date, 13, 59)  # opens at 14:00, an hour before the start
    too_late = _at(session.date + timedelta(days=1), 4, 31)  # closes 12 h after 16:30
    for moment in (too_early, too_late):
        with pytest.raises(ValidationError, match="closed"):
            services.self_check_in(session=session, email="ana@maple.example.org", now=moment)
    assert session.checkin_open(_at(session.date, 14, 0))
    assert session.checkin_open(_at(session.date + timedelta(days=1), 4, 30))
    session.checkin_mode = CheckinMode.CLOSED
    assert not session.checkin_open(_at(session.date, 15, 30))
    session.checkin_mode = CheckinMode.OPEN
    services.self_check_in(session=session, email="ana@maple.example.org", now=too_late)


def test_check_in_cannot_mark_staff_of_another_school(session, cedar, maple):
    StaffMemberFactory(school=cedar, email="ben@cedar.example.org")
    StaffMemberFactory(school=maple, email="gone@maple.example.org", active=False)
    for email in ("ben@cedar.example.org", "gone@maple.example.org", "nobody@example.org"):
        with pytest.raises(ValidationError) as exc:
            services.self_check_in(session=session, email=email, now=_at(session.date, 15))
        assert exc.value.message_dict == {"email": [services.NOT_ON_ROSTER]}
    assert not Attendance.objects.exists()


def test_anonymous_feedback_stores_no_identity(session, maple):
    StaffMemberFactory(school=maple, email="ana@maple.example.org")
    fb = services.feedback_submit(
        session=session,
        rating=4,
        will_apply="Exit tickets",
        anonymous=True,
        email="ana@maple.example.org",
    )
    fb.refresh_from_db()
    assert fb.staff_id is None and fb.anonymous
    assert fb.submitted_on == timezone.localdate()
    stored = {f.name for f in Feedback._meta.concrete_fields}
    assert stored == {"id", "session", "staff", "rating", "will_apply", "submitted_on"}


def test_named_feedback_is_one_per_person_and_sessions_can_forbid_it(session, maple):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    for rating in (3, 5):
        services.feedback_submit(
            session=session, rating=rating, will_apply="", anonymous=False, email=ana.email
        )
    assert Feedback.objects.get().rating == 5 and Feedback.objects.get().staff == ana
    session.allow_named_feedback = False
    fb = services.feedback_submit(
        session=session, rating=2, will_apply="", anonymous=False, email=ana.email
    )
    assert fb.staff_id is None


def test_feedback_requests_go_once_to_attendees_with_an_address(session, maple, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    AttendanceFactory(session=session, staff=ana)
    AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple, email=""))
    AttendanceFactory(
        session=session, staff=StaffMemberFactory(school=maple), status="absent", hours=0
    )
    assert services.send_feedback_emails(session=session) == 1
    assert mail.outbox[0].to == ["ana@maple.example.org"]
    assert session.feedback_token in mail.outbox[0].body
    AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple, email="late@m.org"))
    assert services.send_feedback_emails(session=session) == 1
    assert [m.to for m in mail.outbox] == [["ana@maple.example.org"], ["late@m.org"]]
    session.refresh_from_db()
    assert session.feedback_requested_at is not None


def test_only_a_learning_leader_can_facilitate(maple, coach):
    staff = StaffMemberFactory(school=maple)
    draft = PDSessionFactory.build(facilitator_user=None, facilitator_staff=staff)
    with pytest.raises(ValidationError, match="not a Learning Leader"):
        services.session_log(session=draft, schools=[maple], pillars=[], attendees=[], by=coach)
    LearningLeaderFactory(staff=staff)
    session = services.session_log(
        session=draft, schools=[maple], pillars=["engagement"], attendees=[staff], by=coach
    )
    assert session.facilitator_staff == staff
    assert Attendance.objects.get().hours == session.hours


def test_edits_keep_who_changed_what(session, coach, maple):
    ana = StaffMemberFactory(school=maple)
    full = AttendanceFactory(session=session, staff=ana)
    data = {"title": "New title", "duration_minutes": 120}
    change = services.session_update(
        session=session, data=data, schools=[maple], pillars=["spaces"], by=coach
    )
    assert change.changed_by == coach
    assert change.changes["Title"] == [session.title, "New title"]
    assert change.changes["Duration (minutes)"] == ["90", "120"]
    assert change.changes["Pillars"] == ["—", "spaces"]
    full.refresh_from_db()
    assert full.hours == Decimal("2.00")  # full attendance follows the new length
    rows = [(full, AttendanceStatus.ATTENDED, Decimal("0.5"))]
    change = services.attendance_update(session=session, rows=rows, by=coach)
    assert change.changes == {f"Attendance: {ana}": ["Attended 2h", "Attended 0.5h"]}
    assert PDSessionChange.objects.count() == 2
    assert (
        services.session_update(
            session=session,
            data={"title": "New title"},
            schools=[maple],
            pillars=["spaces"],
            by=coach,
        )
        is None
    )


def test_excused_and_absent_credit_no_hours(session, coach, maple):
    a = AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple))
    services.attendance_update(session=session, rows=[(a, "excused", Decimal(1))], by=coach)
    a.refresh_from_db()
    assert (a.status, a.hours) == ("excused", Decimal(0))


def test_poll_answers_are_anonymous_and_only_while_open(maple):
    from tests.factories import PDNeedsPollFactory

    poll = PDNeedsPollFactory(school=maple)
    response = services.poll_answer(poll=poll, topics=["ai"], other="Math apps")
    assert {f.name for f in response._meta.concrete_fields} == {
        "id",
        "poll",
        "other",
        "submitted_on",
    }
    poll.closes_on = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationError, match="closed"):
        services.poll_answer(poll=poll, topics=["ai"])
