"""A Celery worker killed (SIGKILL) in the middle of an import loses nothing: its
transaction rolls back, Redis redelivers the unacknowledged message to the next worker, and
the job stores one result. Real worker processes, the real broker, the real database."""

import signal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from config.celery import app
from equity.imports.models import ImportJob
from equity.imports.tasks import progress_key
from equity.inventory.models import Device
from tests.equity.imports.test_views import _queued_job, device_rows
from tests.services import need
from tests.workers import wait_for as _wait
from tests.workers import worker

QUEUE = "pillarwise-kill-test"
ROWS = 12_000


def _worker(name: str):
    # Abandoned messages come back after 2 seconds, looked for every second.
    return worker(
        name,
        QUEUE,
        settings.REDIS_URL,
        CELERY_VISIBILITY_TIMEOUT="2",
        CELERY_UNACKED_RESTORE_INTERVAL="1",
        CELERY_UNACKED_RESTORE_THROTTLE="1",
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_is_killed_is_redelivered_and_stored_once(tech, cedar):
    need(bool(settings.REDIS_URL), "Redis (REDIS_URL)")
    need(connection.vendor == "postgresql", "PostgreSQL (a worker process shares the database)")
    job = _queued_job(cedar, tech, device_rows(ROWS))
    app.conf.task_always_eager = False
    first = _worker("first")
    try:
        app.send_task("equity.tasks.run_import", args=[job.pk], queue=QUEUE)

        def writing():  # the writes are one transaction: its progress shows in the cache
            phase = cache.get(progress_key(job.pk))
            return bool(phase) and phase[0] == ImportJob.Status.WRITING and phase[1] > 0

        _wait(writing, 90, "the first worker to be half way through writing")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert Device.objects.filter(school=cedar).count() == 0  # its writes rolled back
        second = _worker("second")
        try:

            def finished():
                job.refresh_from_db()
                return job.finished

            _wait(finished, 120, "the redelivered job to finish")
        finally:
            second.terminate()
            second.wait(20)
    finally:
        app.conf.task_always_eager = True
        if first.poll() is None:
            first.kill()
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, ROWS)
    assert Device.objects.filter(school=cedar).count() == ROWS
