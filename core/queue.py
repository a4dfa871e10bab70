"""Handing work to Celery without letting a stopped Redis take the site down.

Every task is queued through ``enqueue`` (never ``.delay`` / ``.delay_on_commit``
directly). After the transaction commits it publishes the task; the broker settings in
config/settings.py keep a refused or silent broker to about two seconds, and when it
cannot be reached the task is stored as a ``PendingTask`` and the page carries on. The
page that follows the job asks ``is_pending`` and says the work is held. ``flush``
re-sends the held tasks once the broker answers: from the ``flush_pending_jobs`` command,
the every-minute beat task and each worker's start.

Re-sending can deliver a task twice (sent, then the process dies before the row is
deleted), and ``acks_late`` redelivers a task whose worker died; every task queued here
is therefore idempotent (see docs/privacy.md, "Faults").

It sits in ``core``, below every app that queues work, and imports none of them: tasks are
published by name.
"""

from __future__ import annotations

import json
import logging
import socket

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError

from .models import PendingTask

log = logging.getLogger(__name__)

# What publishing raises when the broker is down or does not answer in time.
BROKER_ERRORS = (KombuOperationalError, ConnectionError, socket.timeout, OSError)


def task_key(name: str, args) -> str:
    return f"{name}:{json.dumps(list(args), separators=(',', ':'))}"[:255]


def _publish(name: str, args: list, countdown: float | None = None) -> None:
    if current_app.conf.task_always_eager:
        current_app.tasks[name].apply_async(tuple(args), countdown=countdown)  # runs here, now
    else:
        # By name: a process re-sending held tasks need not have imported their module.
        current_app.send_task(name, args=args, countdown=countdown)


def send(name: str, args: list, countdown: float | None = None) -> bool:
    """Publish now (to run ``countdown`` seconds later); if the broker cannot be reached,
    hold the task, which is then sent without delay when the broker is back. True if sent."""
    if current_app.conf.task_always_eager:
        _publish(name, args, countdown)  # in-process (no REDIS_URL): nothing unreachable
        return True
    try:
        _publish(name, args, countdown)
    except BROKER_ERRORS as exc:
        PendingTask.objects.create(
            name=name, args=args, key=task_key(name, args), last_error=repr(exc)[:200]
        )
        log.warning("Broker unreachable; %s held until it is back", name)
        return False
    return True


def enqueue(task, *args) -> None:
    """Queue ``task(*args)`` once the current transaction commits (never on a rollback)."""
    name, arguments = task.name, list(args)
    transaction.on_commit(lambda: send(name, arguments))


class PerDistrictCallback:
    """The on-commit callback ``once_per_district_after_commit`` registers: ``callback``
    for one district, tagged with its ``purpose`` so that later calls in the same
    transaction find it among the connection's pending callbacks."""

    def __init__(self, purpose: str, district_id: int, callback):
        self.purpose, self.district_id, self.callback = purpose, district_id, callback

    def __call__(self) -> None:
        self.callback(self.district_id)

    def __repr__(self) -> str:
        return f"<PerDistrictCallback {self.purpose} district={self.district_id}>"


def once_per_district_after_commit(purpose: str, district_ids, callback) -> None:
    """After the current transaction commits, ``callback(district_id)`` once per district
    (falsy ids skipped): a transaction registers one callback per purpose and district
    however often it calls this (a 1,000-row import registers one), a rollback runs
    nothing, and outside an atomic block the callbacks run now. ``purpose`` names the
    rule ("pd.summary", "readiness.change_run"): two purposes never share a callback."""
    connection = transaction.get_connection()
    registered = (
        {
            callback_.district_id
            for _savepoints, callback_, *_ in connection.run_on_commit
            if isinstance(callback_, PerDistrictCallback) and callback_.purpose == purpose
        }
        if connection.in_atomic_block
        else set()
    )
    for district_id in {d for d in district_ids if d} - registered:
        transaction.on_commit(PerDistrictCallback(purpose, district_id, callback))


def is_pending(task, *args) -> bool:
    """Is this task held because the broker was unreachable when it was queued?"""
    return PendingTask.objects.filter(key=task_key(task.name, args)).exists()


def flush() -> int:
    """Re-send held tasks, oldest first; stop at the first the broker still refuses.

    Each row is taken with SKIP LOCKED, so two flushes at once never send one task twice.
    """
    sent = 0
    while True:
        with transaction.atomic():
            held = PendingTask.objects.select_for_update(skip_locked=True).order_by("pk").first()
            if held is None:
                return sent
            try:
                _publish(held.name, held.args)
            except BROKER_ERRORS as exc:
                PendingTask.objects.filter(pk=held.pk).update(
                    attempts=held.attempts + 1, last_error=repr(exc)[:200]
                )
                return sent
            held.delete()
            sent += 1
