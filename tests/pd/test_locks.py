"""The PD services that lock rows, called directly without pytest-django's wrapping
transaction (PostgreSQL on CI refuses a lock outside one; ``row_locks`` refuses it on any
database). Listed in tests/test_row_locks.py."""

from datetime import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from pd import services
from pd.models import (
    Attendance,
    AttendanceStatus,
    CheckinCode,
    CheckinMode,
    PDSession,
    PDSessionChange,
)
from tests.factories import AttendanceFactory, PDSessionFactory, StaffMemberFactory
from tests.locks import two_writers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session(maple):
    return PDSessionFactory(schools=[maple], start_time=time(15, 0), duration_minutes=90)


def test_it_updates_a_session_under_its_lock(row_locks, session, maple, coach):
    full = AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple))

    change = services.session_update(
        session=session,
        data={"title": "Feedback that moves learning", "duration_minutes": 120},
        schools=[maple],
        pillars=["professional_learning"],
        by=coach,
    )

    assert change.changes["Duration (minutes)"] == ["90", "120"]
    assert PDSession.objects.get(pk=session.pk).title == "Feedback that moves learning"
    assert Attendance.objects.get(pk=full.pk).hours == Decimal("2.00")
    assert PDSessionChange.objects.count() == 1
    row_locks.assert_taken("pd.services:session_update")


def test_it_checks_a_person_in_once_with_a_code(row_locks, session, maple):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    session.checkin_mode = CheckinMode.OPEN
    session.save()

    code = services.checkin_code_request(session=session, email="ana@maple.example.org")
    with pytest.raises(ValidationError):
        services.checkin_with_code(session=session, email="ana@maple.example.org", code="x")
    first, new = services.checkin_with_code(
        session=session, email="ANA@maple.example.org", code=code.code
    )

    assert new and first.staff == ana
    row = Attendance.objects.get()
    assert (row.staff, row.status, row.hours) == (ana, AttendanceStatus.ATTENDED, Decimal("1.50"))
    assert row.checked_in_at is not None
    # The wrong try was kept although it was refused; the right one spent the code.
    assert CheckinCode.objects.get().attempts == 1
    assert CheckinCode.objects.get().used_at is not None
    row_locks.assert_taken("pd.services:checkin_code_request")
    row_locks.assert_taken("pd.services:checkin_with_code")


def test_it_sends_a_personal_feedback_link_once_per_wait(row_locks, session, maple):
    session.allow_named_feedback = True
    session.save()
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    AttendanceFactory(session=session, staff=ana, status=AttendanceStatus.ATTENDED)

    assert services.feedback_link_request(session=session, email="ANA@maple.example.org")
    assert not services.feedback_link_request(session=session, email="ana@maple.example.org")
    assert not services.feedback_link_request(session=session, email="nobody@maple.example.org")

    assert Attendance.objects.get(staff=ana).feedback_requested_at is not None
    row_locks.assert_taken("pd.services:feedback_link_request")


def _checked_in(session, email):
    code = services.checkin_code_request(session=session, email=email)
    return services.checkin_with_code(session=session, email=email, code=code.code)


def test_two_check_ins_at_once_are_both_counted_in_the_sessions_tally(row_locks, session, maple):
    """Each check-in counts the session's attendance again: the second waits for the first
    to commit (the district's lock), so neither misses the other nor breaks the one tally
    per session and school. Two connections, the first held open until the second waits."""
    from pd.models import SessionTally

    session.checkin_mode = CheckinMode.OPEN
    session.save()
    StaffMemberFactory(school=maple, email="ana@maple.example.org")
    StaffMemberFactory(school=maple, email="ben@maple.example.org")

    two_writers(
        lambda: _checked_in(session, "ana@maple.example.org"),
        lambda: _checked_in(session, "ben@maple.example.org"),
        what="check-in",
    )
    tally = SessionTally.objects.get(session=session, school=maple)
    assert tally.attended == 2 == Attendance.objects.filter(session=session).count()
    row_locks.assert_taken("pd.hours:sessions_tallied")
    row_locks.assert_taken("pd.hours:staff_changed")


def test_the_nightly_recount_and_feedback_recount_take_the_districts_lock(
    row_locks, session, maple
):
    from django.utils import timezone

    from pd.hours import feedback_tallied, keep_window

    AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple))
    keep_window(district_id=maple.district_id, until=timezone.localdate())
    feedback_tallied([session.pk])
    row_locks.assert_taken("pd.hours:keep_window")
    row_locks.assert_taken("pd.hours:feedback_tallied")
