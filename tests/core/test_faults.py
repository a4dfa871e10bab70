"""Faults: Redis stopped (pages answer, work is held and re-sent), PostgreSQL gone (503,
then recovery without a restart). The broker is 'stopped' for real: it points at a local
port where nothing listens."""

import io
import socket
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from config.celery import app
from core import queue
from core.models import PendingTask
from equity.imports.models import ImportJob
from equity.imports.tasks import run_import
from equity.imports.views import SYNC_ROW_LIMIT
from equity.inventory.models import Device
from tests.equity.imports.test_views import device_rows, devices_url, upload
from tests.services import need


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _point_broker_at(url):
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(closed_port):
    """Switch between a stopped broker and the real one (or in-process when there is none)."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)

    class Broker:
        def stop(self):
            app.conf.task_always_eager = False
            _point_broker_at(f"redis://127.0.0.1:{closed_port}/0")

        def back_in_process(self):
            _point_broker_at(saved[0])
            app.conf.task_always_eager = True

    yield Broker()
    _point_broker_at(saved[0])
    app.conf.task_always_eager = saved[1]


def test_with_redis_stopped_a_large_import_is_held_and_runs_when_it_is_back(
    login, tech, cedar, broker, django_capture_on_commit_callbacks
):
    broker.stop()
    client = login(tech)
    n = SYNC_ROW_LIMIT + 5
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(devices_url(cedar), {"file": upload(device_rows(n))})
    assert time.monotonic() - started < 5
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == "queued"
    held = PendingTask.objects.get()
    assert (held.name, held.args) == (run_import.name, [job.pk])

    page = client.get(job.get_absolute_url())
    assert page.status_code == 200
    assert "Pending: the job queue is unreachable" in page.content.decode()

    # Still down: the flush keeps it and counts the attempt.
    assert queue.flush() == 0
    held.refresh_from_db()
    assert held.attempts == 1

    broker.back_in_process()
    out = io.StringIO()
    call_command("flush_pending_jobs", stdout=out)
    assert "Sent 1 held task(s); 0 still held." in out.getvalue()
    job.refresh_from_db()
    assert job.status == "done" and Device.objects.filter(school=cedar).count() == n
    assert "Pending" not in client.get(job.get_absolute_url()).content.decode()


def test_with_redis_stopped_the_pd_feedback_request_page_answers(
    login, coach, maple, broker, django_capture_on_commit_callbacks
):
    from tests.factories import PDSessionFactory

    session = PDSessionFactory(schools=[maple], facilitator_user=coach)
    broker.stop()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = login(coach).post(reverse("pd:feedback_request", args=[session.pk]))
    assert time.monotonic() - started < 5
    assert response.status_code in (200, 302)
    assert PendingTask.objects.filter(
        key=queue.task_key("pd.tasks.send_feedback_requests", [session.pk])
    ).exists()


def test_a_rolled_back_transaction_queues_nothing(db, broker, django_capture_on_commit_callbacks):
    from django.db import transaction

    broker.stop()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue.enqueue(run_import, 1)
        raise RuntimeError
    assert callbacks == [] and not PendingTask.objects.exists()


@pytest.mark.services
def test_held_tasks_reach_the_real_redis_when_it_is_back(broker, settings, db):
    need(bool(settings.REDIS_URL), "Redis (REDIS_URL)")
    import redis

    broker.stop()
    assert queue.send("audit.tasks.apply_retention", []) is False
    _point_broker_at(settings.REDIS_URL)  # Redis is back; still not eager
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert queue.flush() == 1
    assert not PendingTask.objects.exists()
    # Kombu pushes at the head of the list: the message is there; take it off again.
    head = client.lrange("celery", 0, 0)
    assert head and b"audit.tasks.apply_retention" in head[0]
    client.lpop("celery")


def test_healthz_reports_the_broker_down_without_hanging(client, db, settings, closed_port):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    started = time.monotonic()
    body = client.get("/healthz").json()
    assert time.monotonic() - started < 3
    assert body["failing"] == ["broker"] and body["checks"]["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_postgresql_gone_answers_503_then_recovers_without_a_restart(principal, maple):
    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    client = Client(raise_request_exception=False)
    client.force_login(principal)
    url = reverse("today:home")
    assert client.get(url).status_code == 200

    saved = connection.settings_dict["PORT"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    connection.close()
    connection.settings_dict["PORT"] = closed
    try:
        started = time.monotonic()
        response = client.get(url)
        assert response.status_code == 503
        assert "Pillarwise is back in a moment" in response.content.decode()
        assert response["Retry-After"] == "30"
        assert time.monotonic() - started < 5
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved
    # The database is back: the same process answers normally.
    assert client.get(url).status_code == 200


def test_an_ordinary_error_is_still_a_500(client, db, monkeypatch):
    from config import errors

    try:
        raise ValueError("boom")
    except ValueError:
        response = errors.server_error(None)
    assert response.status_code == 500


def _redelivered(task, *args):
    """Run ``task`` as a worker would on a message the broker handed out again."""
    task.push_request(delivery_info={"redelivered": True})
    try:
        return task.run(*args)
    finally:
        task.pop_request()


def test_a_job_whose_worker_died_is_taken_again_on_redelivery_and_stored_once(tech, cedar):
    from tests.equity.imports.test_views import _queued_job, device_rows

    job = _queued_job(cedar, tech, device_rows(3))
    # The first worker took it and died while writing (its transaction rolled back).
    ImportJob.objects.filter(pk=job.pk).update(status="writing", rows_done=2)
    assert run_import(job.pk) is False  # a duplicate first delivery leaves it alone
    assert _redelivered(run_import, job.pk) is True
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 3)
    assert Device.objects.filter(school=cedar).count() == 3
    # A further redelivery of a finished job changes nothing.
    assert _redelivered(run_import, job.pk) is False
    assert Device.objects.filter(school=cedar).count() == 3


def test_every_task_is_acknowledged_late_and_requeued_when_its_worker_is_lost(settings):
    from accounts.tasks import send_invitation
    from audit.tasks import apply_retention
    from core.tasks import flush_pending_tasks
    from pd.tasks import send_feedback_requests

    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    for task in (run_import, send_invitation, send_feedback_requests, apply_retention):
        assert task.acks_late
    assert flush_pending_tasks.acks_late
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout > settings.CELERY_TASK_TIME_LIMIT
