from celery import shared_task
from celery.signals import worker_ready

from . import queue


@shared_task(acks_late=True)
def flush_pending_tasks() -> int:
    """Re-send tasks held while the broker was down (beat runs this every minute)."""
    return queue.flush()


@worker_ready.connect(dispatch_uid="core_flush_on_worker_start")
def _flush_on_worker_start(**kwargs):
    """A worker that starts after an outage sends what was held without waiting for beat."""
    flush_pending_tasks.delay()
