"""Roster runs in the worker, and the nightly run of every approved source."""

from celery import shared_task
from django.db import transaction

from schools.scoping import outside_scope

from . import services
from .models import RosterRun, RosterSource, RunStatus, RunTrigger


@shared_task(
    name="rostering.tasks.run_roster", bind=True, acks_late=True, reject_on_worker_lost=True
)
def run_roster(self, run_id: int) -> str:
    """Run one queued roster run. A run no longer queued (already taken) is left alone,
    except on a redelivery after a lost worker: its writes were rolled back with the
    apply's transaction, so the run starts again from the read."""
    with outside_scope():
        takeable = [RunStatus.QUEUED]
        if (self.request.delivery_info or {}).get("redelivered"):
            takeable += [RunStatus.READING, RunStatus.APPLYING]
        if not RosterRun.objects.filter(pk=run_id, status__in=takeable).exists():
            return "skipped"
        try:
            out = services.run_execute(run_id)
        except Exception as exc:
            services.run_mark_failed(run_id, f"stopped ({exc.__class__.__name__}); nothing applied")
            raise
        return "applied" if out.applied else "previewed"


@shared_task(name="rostering.tasks.nightly", acks_late=True)
def nightly() -> int:
    """Queue an applying run of every source a district approved (beat, once a night)."""
    queued = 0
    with outside_scope():
        for source in RosterSource.objects.filter(nightly=True):
            with transaction.atomic():
                try:
                    run = services.run_create(source=source, trigger=RunTrigger.NIGHTLY, apply=True)
                except services.ValidationError:
                    continue  # still running from before
                services.enqueue_run(run)
                queued += 1
    return queued
