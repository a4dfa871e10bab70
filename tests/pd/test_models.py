from datetime import date, time
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django_scopes import scope

from pd.models import PDSession
from schools.exports import csv_response
from tests.factories import (
    AttendanceFactory,
    LearningLeaderFactory,
    PDSessionFactory,
    StaffMemberFactory,
)


def test_a_session_has_exactly_one_facilitator(maple, coach):
    leader = LearningLeaderFactory(staff=StaffMemberFactory(school=maple)).staff
    for user, staff in ((None, None), (coach, leader)):
        with pytest.raises(IntegrityError), transaction.atomic():
            PDSession.objects.create(
                title="x", date=date(2025, 1, 6), facilitator_user=user, facilitator_staff=staff
            )


def test_hours_and_the_checkin_window():
    s = PDSession(date=date(2025, 3, 4), start_time=time(15, 0), duration_minutes=50)
    assert s.hours == Decimal("0.83")
    opens, closes = s.checkin_window()
    assert (opens.hour, closes.day, closes.hour, closes.minute) == (14, 5, 3, 50)


def test_a_session_of_two_schools_appears_once_in_scope(maple, cedar):
    session = PDSessionFactory(schools=[maple, cedar])
    with scope(school=(maple.pk, cedar.pk), district=(maple.district_id,)):
        assert list(PDSession.objects.all()) == [session]
    with scope(school=(cedar.pk,), district=(cedar.district_id,)):
        assert PDSession.objects.count() == 1
    with scope(school=(), district=()):
        assert PDSession.objects.count() == 0


def test_attendance_of_excused_people_carries_no_hours(maple):
    with pytest.raises(IntegrityError), transaction.atomic():
        AttendanceFactory(staff=StaffMemberFactory(school=maple), status="excused", hours=1)


def test_csv_export_neutralises_formulas_and_starts_with_a_bom(maple):
    with scope(school=(maple.pk,), district=(maple.district_id,)):
        response = csv_response(
            "x.csv", ["Name", "Hours"], [["=HYPERLINK(1)", Decimal("-1.5")], ["@a", "Niño"]]
        )
        body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffName,Hours")
    assert "'=HYPERLINK(1),-1.5" in body and "'@a,Niño" in body
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
