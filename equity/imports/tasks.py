import io

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from schools.scoping import access_for, outside_scope

from .devices import DeviceImporter
from .importer import ImportResult
from .models import ImportJob
from .selectors import allowed_school_ids
from .students import StudentImporter

Status = ImportJob.Status


def progress_key(job_id: int) -> str:
    return f"equity:import-job:{job_id}:progress"


def _runner(job: ImportJob):
    allowed = allowed_school_ids(access_for(job.created_by), job.school.district_id)
    if allowed is not None and job.school_id not in allowed:
        return None  # the person who queued it may no longer import here
    common = {
        "district": job.school.district,
        "default_school": job.school,
        "allowed_school_ids": allowed,
        "user": job.created_by,
        "dry_run": job.dry_run,
    }
    if job.kind == ImportJob.Kind.DEVICES:
        return DeviceImporter(fmt=job.format or None, **common)
    return StudentImporter(**common)


# Registered under its name from before equity became three packages: held tasks
# (audit.PendingTask) and messages already queued name it so.
@shared_task(name="equity.tasks.run_import", bind=True, acks_late=True, reject_on_worker_lost=True)
def run_import(self, job_id: int) -> bool:
    """Run one queued ImportJob. A job that is not queued (already taken) is left alone.

    Except on a redelivery: the broker hands a message out again only after its worker
    was lost (the visibility timeout is longer than the hard time limit, see settings), so
    a job left "checking" or "writing" by that worker is taken again from the start. The
    dead worker's writes were inside the import's one transaction and were rolled back,
    so the job ends with one result.

    Progress goes to the job row with update() every PROGRESS_EVERY rows. While writing,
    the import is inside one transaction, so those updates become visible only at its
    end; the same numbers also go to the cache, which the job page reads meanwhile.
    """
    with outside_scope():
        takeable = [Status.QUEUED]
        if (self.request.delivery_info or {}).get("redelivered"):
            takeable += [Status.VALIDATING, Status.WRITING]
        if not ImportJob.objects.filter(pk=job_id, status__in=takeable).update(
            status=Status.VALIDATING
        ):
            return False
        job = ImportJob.objects.select_related("school__district", "created_by").get(pk=job_id)
        jobs = ImportJob.objects.filter(pk=job_id)
        phase = {"status": Status.VALIDATING}

        def on_phase(name: str) -> None:
            phase["status"] = name
            jobs.update(status=name, rows_done=0)
            cache.set(progress_key(job_id), (name, 0, job.rows_total), 3600)

        def progress(done: int, total: int) -> None:
            jobs.update(rows_done=done, rows_total=total)
            cache.set(progress_key(job_id), (phase["status"], done, total), 3600)

        importer = _runner(job)
        if importer is None:
            _finish(
                jobs,
                ImportResult(kind=job.kind),
                refused="You can no longer import into this school; nothing was imported.",
            )
            return False
        importer.progress = progress
        importer.on_phase = on_phase
        try:
            result = importer.run(io.BytesIO(job.content.encode("utf-8")))
        except Exception:
            _finish(
                jobs,
                ImportResult(kind=job.kind),
                refused="The import stopped unexpectedly; nothing was imported. Try again.",
            )
            raise
        _finish(jobs, result)
        cache.delete(progress_key(job_id))
        return result.ok


def _finish(jobs, result: ImportResult, refused: str = "") -> None:
    errors = [e.as_dict() for e in result.errors[: ImportJob.MAX_STORED_ERRORS]]
    error_count = result.error_count
    if refused:
        errors, error_count = [{"row": 0, "column": "", "message": refused}], 1
    counts = {"rows_done": result.rows, "rows_total": result.rows} if result.rows else {}
    jobs.update(
        status=Status.DONE if error_count == 0 else Status.FAILED,
        **counts,
        created_count=result.created,
        updated_count=result.updated,
        error_count=error_count,
        errors=errors,
        summary=(refused or result.summary)[:300],
        details=[] if refused else result.details,
        content="",  # the upload is not kept (a roster may have carried names)
        finished_at=timezone.now(),
    )
