"""Writes of the import pages: queue a large file for a worker, or import a small one now."""

from __future__ import annotations

from django.db import transaction

from core import queue

from .devices import import_devices
from .importer import ImportResult
from .models import ImportJob
from .readers import Source
from .students import import_students
from .tasks import run_import


@transaction.atomic
def import_job_queue(
    *, school, kind: str, source: Source, filename: str, fmt: str | None, dry_run: bool, by
) -> ImportJob:
    """Keep the file as a job for a worker and queue it (the job and its message commit
    together: a worker never looks for a job that is not there)."""
    job = ImportJob.objects.create(
        school=school,
        kind=kind,
        format=fmt or "",
        dry_run=dry_run,
        filename=filename[:255],
        rows_total=source.data_rows,
        content=source.read_text(),
        created_by=by,
    )
    queue.enqueue(run_import, job.pk)
    return job


def import_file_now(
    *, school, kind: str, source: Source, fmt: str | None, dry_run: bool, by, allowed_school_ids
) -> ImportResult:
    """Import a file in the request, for ``by``: rows may touch only ``allowed_school_ids``
    (None: every school of the district); rows naming no school go to ``school``."""
    options = {
        "district": school.district,
        "default_school": school,
        "allowed_school_ids": allowed_school_ids,
        "user": by,
        "dry_run": dry_run,
    }
    if kind == ImportJob.Kind.DEVICES:
        return import_devices(source, fmt=fmt, **options)
    return import_students(source, **options)
