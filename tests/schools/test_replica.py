"""Reports and exports read from the replica when REPLICA_DATABASE_URL configures one
(schools/replica.py); without it nothing changes."""

import pytest
from django.db import connection, connections
from django.http import StreamingHttpResponse
from django.test import RequestFactory

from equity.inventory.models import Device
from equity.inventory.views import _inventory_export
from pd.views import reports
from schools.replica import REPLICA, ReplicaRouter, reads_from_replica, replica_reads


@pytest.fixture
def router(settings):
    # Django's setting_changed handler rebuilds its router list from this, and back.
    settings.DATABASE_ROUTERS = ["schools.replica.ReplicaRouter"]


@pytest.fixture
def replica(settings, router):
    """A replica alias on the test database itself (what streaming replication would show)."""
    settings.DATABASES = {**settings.DATABASES, REPLICA: dict(connection.settings_dict)}
    connections.settings[REPLICA] = dict(connection.settings_dict)
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    connections.settings.pop(REPLICA, None)


def test_without_a_replica_every_read_stays_on_the_primary(router, db):
    with replica_reads():
        assert Device.objects.all().db == "default"
    assert ReplicaRouter().db_for_read(Device) is None


def test_with_a_replica_reads_inside_a_report_go_to_it(replica, db):
    assert Device.objects.all().db == "default"
    with replica_reads():
        assert Device.objects.all().db == REPLICA
        assert ReplicaRouter().db_for_write(Device) == "default"
    assert Device.objects.all().db == "default"


def test_the_reports_and_exports_are_the_views_that_read_from_it():
    assert reports.reads_from_replica
    assert _inventory_export.reads_from_replica


def test_a_streamed_export_reads_its_rows_from_it_after_the_view_returned(replica, db):
    seen = []

    def view(request):
        seen.append(Device.objects.all().db)

        def rows():
            seen.append(Device.objects.all().db)  # read while the response is sent
            yield b"row\n"

        return StreamingHttpResponse(rows())

    response = reads_from_replica(view)(RequestFactory().get("/"))
    assert Device.objects.all().db == "default"
    assert b"".join(response.streaming_content) == b"row\n"
    assert seen == [REPLICA, REPLICA]
