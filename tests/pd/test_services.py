import json
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.utils import timezone

from pd import services
from pd.models import (
    CODE_ATTEMPTS,
    CODE_LIFETIME,
    CODE_WINDOW,
    CODES_PER_WINDOW,
    Attendance,
    AttendanceStatus,
    CheckinCode,
    CheckinMode,
    Feedback,
    PDSessionChange,
)
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


def _check_in(session, email, now):
    """Ask for a code as the visitor would, then type the code that was e-mailed."""
    code = services.checkin_code_request(session=session, email=email, now=now)
    assert code is not None
    return services.checkin_with_code(session=session, email=email, code=code.code, now=now)


def test_check_in_marks_the_attendee_once(session, maple):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    during = _at(session.date, 15, 30)
    attendance, new = _check_in(session, "ANA@maple.example.org ", during)
    assert new and attendance.staff == ana and attendance.hours == Decimal("1.50")
    assert attendance.status == AttendanceStatus.ATTENDED
    again, new = _check_in(session, "ana@maple.example.org", during)
    assert not new and again.pk == attendance.pk
    assert Attendance.objects.count() == 1


def test_check_in_turns_an_absence_into_attendance(session, maple):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    AttendanceFactory(session=session, staff=ana, status=AttendanceStatus.ABSENT, hours=0)
    attendance, new = _check_in(session, ana.email, _at(session.date, 16))
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
            services.checkin_code_request(
                session=session, email="ana@maple.example.org", now=moment
            )
        with pytest.raises(ValidationError, match="closed"):
            services.checkin_with_code(
                session=session, email="ana@maple.example.org", code="123456", now=moment
            )
    assert session.checkin_open(_at(session.date, 14, 0))
    assert session.checkin_open(_at(session.date + timedelta(days=1), 4, 30))
    session.checkin_mode = CheckinMode.CLOSED
    assert not session.checkin_open(_at(session.date, 15, 30))
    session.checkin_mode = CheckinMode.OPEN
    _check_in(session, "ana@maple.example.org", too_late)


def test_no_code_goes_to_staff_of_another_school_or_an_unknown_address(session, cedar, maple):
    StaffMemberFactory(school=cedar, email="ben@cedar.example.org")
    StaffMemberFactory(school=maple, email="gone@maple.example.org", active=False)
    for email in ("ben@cedar.example.org", "gone@maple.example.org", "nobody@example.org"):
        moment = _at(session.date, 15)
        assert services.checkin_code_request(session=session, email=email, now=moment) is None
        with pytest.raises(ValidationError) as exc:
            services.checkin_with_code(session=session, email=email, code="000000", now=moment)
        assert exc.value.message_dict == {"code": [services.WRONG_CODE]}
    assert not CheckinCode.objects.exists() and not Attendance.objects.exists()


def test_a_wrong_code_counts_and_five_kill_the_code(session, maple):
    StaffMemberFactory(school=maple, email="ana@maple.example.org")
    now = _at(session.date, 15)
    code = services.checkin_code_request(session=session, email="ana@maple.example.org", now=now)
    wrong = f"{(int(code.code) + 1) % 10**6:06d}"
    for tries in range(1, CODE_ATTEMPTS + 1):
        with pytest.raises(ValidationError):
            services.checkin_with_code(
                session=session, email="ana@maple.example.org", code=wrong, now=now
            )
        code.refresh_from_db()
        assert code.attempts == tries  # committed although the check-in was refused
    with pytest.raises(ValidationError):
        services.checkin_with_code(
            session=session, email="ana@maple.example.org", code=code.code, now=now
        )
    assert not Attendance.objects.exists()


def test_a_code_expires_works_once_and_only_for_its_session(session, maple):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    other = PDSessionFactory(schools=[maple], date=session.date, start_time=time(15, 0))
    now = _at(session.date, 15)
    code = services.checkin_code_request(session=session, email=ana.email, now=now)
    with pytest.raises(ValidationError):
        services.checkin_with_code(session=other, email=ana.email, code=code.code, now=now)
    with pytest.raises(ValidationError):
        services.checkin_with_code(
            session=session, email=ana.email, code=code.code, now=now + CODE_LIFETIME
        )
    fresh = services.checkin_code_request(session=session, email=ana.email, now=now)
    services.checkin_with_code(session=session, email=ana.email, code=fresh.code, now=now)
    with pytest.raises(ValidationError):  # spent
        services.checkin_with_code(session=session, email=ana.email, code=fresh.code, now=now)
    assert CheckinCode.objects.exclude(used_at=None).count() == 2


def test_at_most_three_codes_per_person_in_fifteen_minutes(session, maple, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    StaffMemberFactory(school=maple, email="ana@maple.example.org")
    now = _at(session.date, 15)
    sent = [
        services.checkin_code_request(session=session, email="ana@maple.example.org", now=now)
        for _ in range(CODES_PER_WINDOW + 2)
    ]
    assert [c is not None for c in sent] == [True] * CODES_PER_WINDOW + [False, False]
    later = now + CODE_WINDOW + timedelta(seconds=1)
    assert services.checkin_code_request(session=session, email="ana@maple.example.org", now=later)


def test_the_code_is_not_stored(session, maple):
    StaffMemberFactory(school=maple, email="ana@maple.example.org")
    code = services.checkin_code_request(
        session=session, email="ana@maple.example.org", now=_at(session.date, 15)
    )
    stored = [str(getattr(code, f.attname)) for f in CheckinCode._meta.concrete_fields]
    assert len(code.code) == 6 and code.code not in stored


def test_anonymous_feedback_stores_no_identity(session, maple):
    fb = services.feedback_submit(session=session, rating=4, will_apply="Exit tickets")
    fb.refresh_from_db()
    assert fb.staff_id is None and fb.anonymous
    assert fb.submitted_on == timezone.localdate()
    stored = {f.name for f in Feedback._meta.concrete_fields}
    assert stored == {"id", "session", "staff", "rating", "will_apply", "submitted_on"}


def test_named_feedback_is_one_per_person_and_sessions_can_forbid_it(session, maple):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    for rating in (3, 5):
        services.feedback_submit(session=session, rating=rating, will_apply="", staff=ana)
    assert Feedback.objects.get().rating == 5 and Feedback.objects.get().staff == ana
    session.allow_named_feedback = False
    fb = services.feedback_submit(session=session, rating=2, will_apply="", staff=ana)
    assert fb.staff_id is None


def test_a_personal_feedback_link_names_its_attendee_and_cannot_be_altered(session, maple):
    attendance = AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple))
    token = services.feedback_link_token(attendance)
    assert services.attendance_by_feedback_link(token) == attendance
    other = AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple))
    # The same signature over another attendee's id does not pass.
    payload = signing.b64_encode(json.dumps({"a": other.pk, "s": session.pk}).encode())
    forged = payload.decode() + token[token.index(":") :]
    assert services.attendance_by_feedback_link(forged) is None
    assert services.attendance_by_feedback_link("made-up") is None
    Attendance.objects.filter(pk=attendance.pk).update(status="absent", hours=0)
    assert services.attendance_by_feedback_link(token) is None


def test_feedback_requests_go_once_to_attendees_with_an_address(session, maple, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    mine = AttendanceFactory(session=session, staff=ana)
    AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple, email=""))
    AttendanceFactory(
        session=session, staff=StaffMemberFactory(school=maple), status="absent", hours=0
    )
    assert services.send_feedback_emails(session=session) == 1
    assert mail.outbox[0].to == ["ana@maple.example.org"]
    # Each attendee gets their own link, never the shared one.
    (token,) = re.findall(r"/pd/my-feedback/([^/\s]+)/", mail.outbox[0].body)
    assert services.attendance_by_feedback_link(token) == mine
    assert session.feedback_token not in mail.outbox[0].body
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
