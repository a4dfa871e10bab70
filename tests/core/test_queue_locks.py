"""Re-sending held tasks takes each row with SKIP LOCKED, so two flushes at once never send
one task twice: called directly without pytest-django's wrapping transaction (PostgreSQL on
CI refuses a lock outside one; ``row_locks`` refuses it on any database). Listed in
tests/test_row_locks.py."""

import threading

import pytest
from django.db import connection, connections, transaction

from audit import tasks
from core import queue
from core.models import PendingTask

pytestmark = pytest.mark.django_db(transaction=True)

RETENTION = tasks.apply_retention.name  # idempotent: safe to run in the test


def _held(n):
    return [
        PendingTask.objects.create(name=RETENTION, args=[], key=queue.task_key(RETENTION, []))
        for _ in range(n)
    ]


def test_it_flushes_held_tasks_one_locked_row_at_a_time(row_locks):
    first, second = _held(2)
    if connection.vendor == "postgresql":
        # Another flush is sending the first row: this one skips it instead of waiting.
        taken, release = threading.Event(), threading.Event()

        def other_flush():
            try:
                with transaction.atomic():
                    PendingTask.objects.select_for_update().get(pk=first.pk)
                    taken.set()
                    release.wait(timeout=30)
            finally:
                connections.close_all()

        other = threading.Thread(target=other_flush)
        other.start()
        assert taken.wait(timeout=30)
        try:
            assert queue.flush() == 1
            assert list(PendingTask.objects.values_list("pk", flat=True)) == [first.pk]
        finally:
            release.set()
            other.join(timeout=30)

    assert queue.flush() == (1 if connection.vendor == "postgresql" else 2)
    assert not PendingTask.objects.exists()
    row_locks.assert_taken("core.queue:flush")
