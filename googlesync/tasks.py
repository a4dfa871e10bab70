"""The sync as Celery runs it: one run by id ("Sync now", or each district at night).

Progress goes to the cache (the run's page polls it): while writing, the run is inside one
transaction, so its row shows the result only at the end."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.core.exceptions import ValidationError

from core.queue import enqueue
from schools.models import District
from schools.scoping import outside_scope

from . import services
from .directory import GoogleProblem
from .models import GoogleConnection, SyncRun


def progress_key(run_id: int) -> str:
    return f"googlesync:run:{run_id}:progress"


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def run_sync(self, run_id: int) -> bool:
    """Run one queued SyncRun; a run already taken is left alone, except on a redelivery
    (its worker was lost: its writes were rolled back with the run's one transaction, so
    it starts again from the first page)."""
    with outside_scope():
        takeable = [SyncRun.Status.QUEUED]
        if (self.request.delivery_info or {}).get("redelivered"):
            takeable += [SyncRun.Status.READING, SyncRun.Status.WRITING]
        if not SyncRun.unscoped.filter(pk=run_id, status__in=takeable).update(
            status=SyncRun.Status.READING
        ):
            return False
        run = SyncRun.unscoped.select_related("by").get(pk=run_id)
        connection = GoogleConnection.unscoped.get(district_id=run.district_id)

        def progress(phase: str, done: int, total: int) -> None:
            cache.set(progress_key(run_id), (str(phase), done, total), 3600)
            if phase == SyncRun.Status.WRITING and done == 0:
                SyncRun.unscoped.filter(pk=run_id).update(status=SyncRun.Status.WRITING)

        try:
            result = services.sync(
                connection, by=run.by, dry_run=run.dry_run, delta=run.delta, progress=progress
            )
        except GoogleProblem as exc:
            services.run_finish(run, None, str(exc))
            return False
        except Exception as exc:
            services.run_finish(run, None, f"The sync stopped: {exc.__class__.__name__}.")
            raise
        finally:
            cache.delete(progress_key(run_id))
        services.run_finish(run, result)
        return True


@shared_task(acks_late=True)
def sync_all_districts() -> int:
    """Nightly: a run for each district whose first preview a person approved."""
    queued = 0
    with outside_scope():
        for connection in GoogleConnection.unscoped.filter(approved_at__isnull=False).exclude(
            key_sealed=""
        ):
            try:
                run = services.run_start(district=connection.district, by=None)
            except ValidationError:  # one under way: tomorrow's run covers the rest
                continue
            enqueue(run_sync, run.pk)
            queued += 1
    return queued


@shared_task(acks_late=True)
def count_aue_all_districts() -> int:
    """Nightly: every district's ``AueTally`` counted again (``services.count_aue``), so the
    reports follow the inventory's own changes (a device retired, moved or imported, a
    model's date) by the next morning, whether or not the district syncs with Google."""
    with outside_scope():
        ids = list(District.unscoped.order_by("pk").values_list("pk", flat=True))
    for district_id in ids:
        with outside_scope():
            services.count_aue(district_id=district_id)
    return len(ids)
