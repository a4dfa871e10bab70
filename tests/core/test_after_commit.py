"""``core.queue.once_per_district_after_commit``: the rule behind PD's report count and
readiness's change run ("after the commit, once per district, whatever the number of
writes"). Real transactions (no wrapping one), so commits and rollbacks are the database's."""

import pytest
from django.db import connection, transaction

from core.queue import PerDistrictCallback, once_per_district_after_commit

pytestmark = pytest.mark.django_db(transaction=True)


def _registered():
    return [c for _sids, c, *_ in connection.run_on_commit if isinstance(c, PerDistrictCallback)]


def test_a_thousand_calls_in_one_transaction_register_one_callback_per_district():
    ran = []
    with transaction.atomic():
        for _ in range(1000):
            once_per_district_after_commit("count", [7, 8, None, 0, 7], ran.append)
        with transaction.atomic():  # a savepoint sees the outer block's registrations
            once_per_district_after_commit("count", [8], ran.append)
        assert sorted((c.purpose, c.district_id) for c in _registered()) == [
            ("count", 7),
            ("count", 8),
        ]
        assert ran == []  # nothing before the commit
    assert sorted(ran) == [7, 8]


def test_two_purposes_for_one_district_are_independent():
    counted, queued = [], []
    with transaction.atomic():
        for _ in range(3):
            once_per_district_after_commit("count", [7], counted.append)
            once_per_district_after_commit("run", [7], queued.append)
        assert len(_registered()) == 2
    assert (counted, queued) == ([7], [7])


def test_a_rollback_runs_nothing_and_leaves_nothing_registered():
    ran = []
    with pytest.raises(RuntimeError), transaction.atomic():
        once_per_district_after_commit("count", [7], ran.append)
        raise RuntimeError("the write failed")
    assert ran == []
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():  # a rolled-back savepoint
            once_per_district_after_commit("count", [7], ran.append)
            raise RuntimeError("this part failed")
        assert ran == [] and _registered() == []
        once_per_district_after_commit("count", [7], ran.append)  # registered again
    assert ran == [7]


def test_outside_a_transaction_it_runs_now():
    ran = []
    assert not connection.in_atomic_block
    once_per_district_after_commit("count", [7, None], ran.append)
    assert ran == [7]
    once_per_district_after_commit("count", [7], ran.append)  # nothing to wait for
    assert ran == [7, 7]
