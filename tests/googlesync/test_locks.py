"""The count of the reports' AUE tally locks the district's ``AueCounted`` row, called
without pytest-django's wrapping transaction (PostgreSQL refuses a lock outside one;
``row_locks`` refuses it on any database). Listed in tests/test_row_locks.py."""

from datetime import date

import pytest

from googlesync import services
from googlesync.models import AueTally
from tests.factories import DeviceFactory, DeviceModelFactory
from tests.locks import two_writers

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_counts_at_once_leave_one_tally(row_locks, district, maple, cedar):
    """A sync's count and the nightly one at the same time: the second waits for the
    first to commit, then deletes its rows and writes its own (without the lock it would
    not see the first's rows to delete, and its insert would break the one row per school
    and day). Two connections, the first held open until the second waits."""
    model = DeviceModelFactory(district=district, auto_update_expiration=date(2027, 6, 1))
    for school in (maple, maple, cedar):
        DeviceFactory(school=school, model=model)
    services.count_aue(district_id=district.pk)  # counted before: its stamp row exists
    DeviceFactory(school=cedar, model=model)

    def count():
        services.count_aue(district_id=district.pk)

    two_writers(count, count, what="count")
    rows = set(AueTally.objects.values_list("school_id", "expires_on", "devices"))
    assert rows == {(maple.pk, date(2027, 6, 1), 2), (cedar.pk, date(2027, 6, 1), 2)}
    assert AueTally.objects.count() == 2
    row_locks.assert_taken("googlesync.services:count_aue")
