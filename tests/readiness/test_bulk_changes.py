"""Set-based writes (moving or retiring devices in bulk, the year's rollover) send no model
signals; they announce schools.signals.evidence_changed and readiness queues one run."""

import pytest
from django.db import connection

from equity.inventory import services
from equity.year import rollover
from readiness.models import ReadinessRun
from tests.factories import DeviceFactory, StudentFactory
from tests.readiness.test_jobs import committed, enqueued  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _queued_district(enqueued):  # noqa: F811
    assert enqueued.call_count == 1
    return ReadinessRun.objects.get(pk=enqueued.call_args.args[0][0]).district_id


def test_moving_devices_in_bulk_queues_a_run_of_their_district(
    maple,
    cedar,
    tech,
    enqueued,  # noqa: F811
    committed,  # noqa: F811
):
    devices = DeviceFactory.create_batch(3, school=maple)
    connection.run_on_commit.clear()  # the factories' own saves: not what is tested
    with committed():
        assert services.devices_move(devices=devices, school=cedar, by=tech) == 3
    assert _queued_district(enqueued) == maple.district_id


def test_retiring_devices_in_bulk_queues_a_run(maple, tech, enqueued, committed):  # noqa: F811
    devices = DeviceFactory.create_batch(2, school=maple)
    connection.run_on_commit.clear()  # the factories' own saves: not what is tested
    with committed():
        assert services.devices_retire(devices=devices, by=tech) == 2
    assert _queued_district(enqueued) == maple.district_id


def test_the_rollover_queues_a_run(district, maple, tech, enqueued, committed):  # noqa: F811
    StudentFactory(school=maple, grade=3)
    connection.run_on_commit.clear()  # the factories' own saves: not what is tested
    with committed():
        rollover.run_rollover(district, "", by=tech)
    assert _queued_district(enqueued) == district.pk
