"""schools.bulk writes what it is given, exactly, on whichever database the suite runs."""

from datetime import UTC, datetime

import pytest

from schools.bulk import copy_rows, reserve_ids
from schools.models import StaffMember
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db


def test_reserved_ids_are_fresh_and_rows_land_with_them():
    school = SchoolFactory()
    existing = StaffMember.objects.create(school=school, full_name="Already Here")
    ids = reserve_ids(StaffMember, 3)
    assert len(set(ids)) == 3 and min(ids) > existing.pk
    when = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    awkward = "Tab\there, new\nline, back\\slash, quote ' and \" and é"
    rows = [
        (ids[0], school.pk, awkward, "", "teacher", True, when, when),
        (ids[1], school.pk, "Nobody Else", "n@example.org", "coach", False, when, when),
        (ids[2], school.pk, "Third", "", "teacher", True, when, when),
    ]
    fields = [
        "id",
        "school",
        "full_name",
        "email",
        "position",
        "active",
        "created_at",
        "updated_at",
    ]
    assert copy_rows(StaffMember, fields, iter(rows)) == 3
    got = {s.pk: s for s in StaffMember.objects.filter(pk__in=ids)}
    assert got[ids[0]].full_name == awkward
    assert got[ids[1]].active is False and got[ids[1]].position == "coach"
    assert got[ids[2]].created_at == when
    # The sequence moved past what was written: an ordinary save does not collide.
    assert StaffMember.objects.create(school=school, full_name="Later").pk > max(ids)


def test_nulls_and_an_empty_iterable():
    school = SchoolFactory()
    assert copy_rows(StaffMember, ["school", "full_name"], []) == 0
    when = datetime(2026, 9, 1, tzinfo=UTC)
    fields = [
        "school",
        "full_name",
        "email",
        "position",
        "active",
        "user",
        "created_at",
        "updated_at",
    ]
    copy_rows(
        StaffMember, fields, [(school.pk, "No Account", "", "teacher", True, None, when, when)]
    )
    assert StaffMember.objects.get(full_name="No Account").user_id is None
    assert reserve_ids(StaffMember, 0) == []
