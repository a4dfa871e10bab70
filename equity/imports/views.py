"""Upload pages for device and student lists, and the page that follows a large import."""

from django.core.cache import cache
from django.shortcuts import redirect, render

from core import queue
from schools.exports import csv_response
from schools.models import School
from schools.scoping import scoped_object

from ..permissions import can_import
from . import services
from .forms import ImportForm
from .models import ImportJob
from .readers import Source
from .selectors import allowed_school_ids
from .tasks import progress_key, run_import

# Up to this many data rows the import runs in the request; above, a worker runs it.
SYNC_ROW_LIMIT = 2000


def _schools():
    return School.objects.select_related("district")


KIND_TITLES = {
    ImportJob.Kind.DEVICES: "Import devices",
    ImportJob.Kind.STUDENTS: "Import students",
}


@scoped_object(_schools, methods=["GET", "POST"])
def import_devices(request, school):
    return _import_page(request, school, ImportJob.Kind.DEVICES)


@scoped_object(_schools, methods=["GET", "POST"])
def import_students(request, school):
    return _import_page(request, school, ImportJob.Kind.STUDENTS)


def _import_page(request, school, kind):
    can_import.require(request.access, school=school)
    bound = request.method == "POST"
    form = ImportForm(request.POST if bound else None, request.FILES if bound else None, kind=kind)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        source = Source(upload.file)
        fmt = form.cleaned_data.get("format") or None
        dry_run = form.cleaned_data["dry_run"]
        if source.error is None and source.data_rows > SYNC_ROW_LIMIT:
            job = services.import_job_queue(
                school=school,
                kind=kind,
                source=source,
                filename=upload.name,
                fmt=fmt,
                dry_run=dry_run,
                by=request.user,
            )
            return redirect(job)
        result = services.import_file_now(
            school=school,
            kind=kind,
            source=source,
            fmt=fmt,
            dry_run=dry_run,
            by=request.user,
            allowed_school_ids=allowed_school_ids(request.access, school.district_id),
        )
    return render(
        request,
        "equity/import_form.html",
        {
            "school": school,
            "kind": kind,
            "title": KIND_TITLES[kind],
            "form": form,
            "result": result,
            "errors": [e.as_dict() for e in result.errors] if result else [],
            "jobs": ImportJob.objects.filter(school=school, kind=kind)[:5],
            "sync_limit": SYNC_ROW_LIMIT,
        },
    )


def _jobs():
    return ImportJob.objects.select_related("school")


def _progress(job: ImportJob) -> dict:
    """What the progress bar shows: a phase, rows done of rows, and a percentage."""
    status, done, total = job.status, job.rows_done, job.rows_total
    if not job.finished:
        live = cache.get(progress_key(job.pk))
        if live:
            status, done, total = live
    total = max(total, done, 1)
    share = done / total
    if job.finished:
        percent = 100
    elif status == ImportJob.Status.QUEUED:
        percent = 0
    elif job.dry_run:
        percent = round(share * 100)
    elif status == ImportJob.Status.WRITING:
        percent = 50 + round(share * 50)
    else:
        percent = round(share * 50)
    waiting = "Waiting for a worker"
    if status == ImportJob.Status.QUEUED and queue.is_pending(run_import, job.pk):
        waiting = "Pending: the job queue is unreachable; the import starts once it is back"
    labels = {
        ImportJob.Status.QUEUED: waiting,
        ImportJob.Status.VALIDATING: f"Checking rows: {done:,} of about {total:,}",
        ImportJob.Status.WRITING: f"Writing rows: {done:,} of {total:,}",
        ImportJob.Status.DONE: "Finished",
        ImportJob.Status.FAILED: "Finished with problems; nothing was imported",
    }
    return {"percent": percent, "label": labels[status]}


@scoped_object(_jobs)
def import_job(request, job):
    can_import.require(request.access, school=job.school)
    context = {
        "job": job,
        "progress": _progress(job),
        "title": KIND_TITLES[job.kind],
    }
    if request.htmx:
        return render(request, "equity/_import_job_progress.html", context)
    return render(request, "equity/import_job.html", context)


@scoped_object(_jobs)
def import_job_errors(request, job):
    can_import.require(request.access, school=job.school)
    rows = ([e["row"], e["column"], e["message"]] for e in job.errors)
    return csv_response(f"import-{job.pk}-errors.csv", ["row", "column", "message"], rows)
