"""The count of the reports' AUE tally locks the district's ``AueCounted`` row, called
without pytest-django's wrapping transaction (PostgreSQL refuses a lock outside one;
``row_locks`` refuses it on any database). Listed in tests/test_row_locks.py."""

import threading
from datetime import date

import pytest
from django.db import connection, transaction

from googlesync import services
from googlesync.models import AueTally
from tests.factories import DeviceFactory, DeviceModelFactory
from tests.locks import wait_for_a_lock_wait

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
    first_done, release, errors = threading.Event(), threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                services.count_aue(district_id=district.pk)
                first_done.set()
                assert release.wait(60)
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            first_done.set()
            connection.close()

    def second():
        try:
            services.count_aue(district_id=district.pk)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    if connection.vendor == "postgresql":
        a = threading.Thread(target=first)
        a.start()
        assert first_done.wait(60)
        b = threading.Thread(target=second)
        b.start()
        wait_for_a_lock_wait("count")  # the second waits on the first's lock
        release.set()
        a.join(60)
        b.join(60)
        assert not errors, errors
    else:  # SQLite writes one transaction at a time (a shared in-memory database refuses
        # a second writer outright): the two counts run one after the other.
        services.count_aue(district_id=district.pk)
        services.count_aue(district_id=district.pk)
    rows = set(AueTally.objects.values_list("school_id", "expires_on", "devices"))
    assert rows == {(maple.pk, date(2027, 6, 1), 2), (cedar.pk, date(2027, 6, 1), 2)}
    assert AueTally.objects.count() == 2
    row_locks.assert_taken("googlesync.services:count_aue")
