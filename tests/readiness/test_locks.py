"""Readiness's one lock, taken without pytest-django's wrapping transaction: the waiting
change run of a district is claimed under a lock on the district's row, so two commits at
once create one run (listed in tests/test_row_locks.py)."""

import pytest

from readiness.models import ReadinessRun, RunKind, RunStatus
from readiness.services import claim_change_run

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_claims_one_waiting_run_per_district(row_locks, district):
    ReadinessRun.objects.all().delete()

    first = claim_change_run(district.pk)
    second = claim_change_run(district.pk)

    assert first is not None and second is None
    run = ReadinessRun.objects.get()
    assert (run.kind, run.status) == (RunKind.CHANGE, RunStatus.QUEUED)
    row_locks.assert_taken("readiness.services:claim_change_run")
