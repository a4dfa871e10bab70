"""A worker outlives a Redis outage: it reconnects for as long as Redis is down and runs
the next task when it is back, while a publisher still gives up within seconds and holds
its task (core.PendingTask). Real worker process, real redis-server (the test's own, on
its own port, so stopping it touches nobody else), the real database."""

import time

import pytest
from django.db import connection

from config.celery import app
from core import queue
from core.models import PendingTask
from readiness.models import ReadinessRun, RunKind, RunStatus
from readiness.tasks import compute_run
from tests.services import need
from tests.workers import OwnRedis, redis_server_available, stop, wait_for, worker

QUEUE = "celery"  # the default queue, on the test's own Redis: the held task goes there
OUTAGE = 30  # seconds Redis stays down


def test_the_worker_retries_the_broker_for_ever_and_publishing_gives_up_fast():
    """The two retry policies, as the worker and a web request read them."""
    assert app.conf.broker_connection_retry is True
    assert app.conf.broker_connection_max_retries is None  # worker and beat: never give up
    assert app.conf.task_publish_retry_policy["max_retries"] <= 1  # a page: a few seconds
    assert app.conf.broker_transport_options["max_retries"] <= 1


def _point_broker_at(url: str) -> None:
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_redis(tmp_path):
    need(redis_server_available(), "redis-server")
    server = OwnRedis(tmp_path)
    server.start()
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.task_always_eager = False
    _point_broker_at(server.url)
    yield server
    server.stop()
    _point_broker_at(saved[0])
    app.conf.task_always_eager = saved[1]


def _run(district) -> ReadinessRun:
    return ReadinessRun._base_manager.create(district=district, kind=RunKind.MANUAL)


def _done(run: ReadinessRun):
    def check():
        run.refresh_from_db()
        return run.status == RunStatus.DONE

    return check


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_survives_redis_down_for_30_seconds_and_runs_the_next_task(
    maple, own_redis, tmp_path
):
    need(connection.vendor == "postgresql", "PostgreSQL (a worker process shares the database)")
    log = tmp_path / "worker.log"
    process = worker("reconnect", QUEUE, own_redis.url, log=log)

    def alive():
        return process.poll() is None

    def why() -> str:
        return log.read_text(errors="replace")[-3000:]

    def waiting(predicate, seconds, what):
        try:
            wait_for(predicate, seconds, what, every=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the worker's log:\n{why()}") from None

    try:
        before = _run(maple.district)
        app.send_task(compute_run.name, args=[before.pk], queue=QUEUE)
        waiting(_done(before), 90, "the worker to run a task before the outage")

        own_redis.stop()
        down_since = time.monotonic()
        # A publisher (a page, a command) does not wait for the broker: held, in seconds.
        held = _run(maple.district)
        started = time.monotonic()
        assert queue.send(compute_run.name, [held.pk]) is False
        assert time.monotonic() - started < 5
        assert PendingTask.objects.filter(name=compute_run.name, args=[held.pk]).exists()
        # The worker keeps trying for the whole outage (it used to exit after ~2 s).
        while time.monotonic() - down_since < OUTAGE:
            assert alive(), f"the worker exited while Redis was down:\n{why()}"
            time.sleep(0.5)

        own_redis.start()
        # The held task goes out now that the broker answers, and a new one is sent.
        assert queue.flush() == 1
        after = _run(maple.district)
        app.send_task(compute_run.name, args=[after.pk], queue=QUEUE)
        # The worker's reconnection backs off to at most 30 s between tries.
        waiting(_done(after), 120, "the worker to run a task after Redis came back")
        waiting(_done(held), 30, "the worker to run the task held during the outage")
        assert alive()
    finally:
        stop(process)
