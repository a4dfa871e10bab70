"""The PD services that lock rows, called directly without pytest-django's wrapping
transaction (PostgreSQL on CI refuses a lock outside one; ``row_locks`` refuses it on any
database). Listed in tests/test_row_locks.py."""

from datetime import time
from decimal import Decimal

import pytest

from pd import services
from pd.models import Attendance, AttendanceStatus, CheckinMode, PDSession, PDSessionChange
from tests.factories import AttendanceFactory, PDSessionFactory, StaffMemberFactory

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


def test_it_checks_a_person_in_once(row_locks, session, maple):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    session.checkin_mode = CheckinMode.OPEN
    session.save()

    first, new = services.self_check_in(session=session, email="ana@maple.example.org")
    again, new_again = services.self_check_in(session=session, email="ANA@maple.example.org")

    assert new and not new_again and again.pk == first.pk
    row = Attendance.objects.get()
    assert (row.staff, row.status, row.hours) == (ana, AttendanceStatus.ATTENDED, Decimal("1.50"))
    assert row.checked_in_at is not None
    row_locks.assert_taken("pd.services:self_check_in")
