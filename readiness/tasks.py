"""Readiness jobs. Every task takes a run id (or nothing) and reloads outside the scope.

- ``compute_run``: compute one ReadinessRun (a school or a whole district). Late
  acknowledgement, so a worker that dies mid-run leaves the message to be delivered again;
  re-delivery of a run that is done stores nothing (``services.execute_run``). Retries only
  for transient database errors (``OperationalError``), with exponential backoff, at most
  ``max_retries`` times; soft and hard time limits stop a runaway computation, and the
  failure is written on the run for the dashboards to show.
- ``compute_all_districts``: the nightly beat entry; queues one run per district.
"""

from celery import shared_task
from django.db import OperationalError

from schools.models import District
from schools.scoping import outside_scope

from . import services
from .models import RunKind


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=4,
    soft_time_limit=20 * 60,
    time_limit=25 * 60,
)
def compute_run(self, run_id: int) -> bool:
    with outside_scope():
        run = services.execute_run(run_id, final_attempt=self.request.retries >= self.max_retries)
    return run is not None


@shared_task(acks_late=True, soft_time_limit=5 * 60, time_limit=6 * 60)
def compute_all_districts() -> int:
    with outside_scope():
        ids = list(District.unscoped.values_list("pk", flat=True))
    for district_id in ids:
        services.request_run(district_id=district_id, kind=RunKind.NIGHTLY)
    return len(ids)
