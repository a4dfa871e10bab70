"""Writes of the rostering app: sources, runs, the approval that turns on the nightly run."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import auditlog
from core.queue import enqueue
from core.sealing import SecretUnreadable, unseal

from .client import RestClient
from .edfi import EdFiApi
from .models import (
    RUNNING,
    SECRET_PURPOSE,
    RosterRun,
    RosterSource,
    RunStatus,
    RunTrigger,
    SourceKind,
)
from .oneroster import CsvBundle, RestApi
from .records import RosterProblem
from .sync import Outcome, run_sync


@transaction.atomic
def source_save(*, source: RosterSource, secret: str = "") -> RosterSource:
    """Save a source's settings; a non-empty ``secret`` replaces the stored one (encrypted;
    it is never shown again)."""
    if secret:
        source.set_secret(secret)
    source.full_clean()
    if source.is_rest and not source.has_secret:
        raise ValidationError({"client_secret": "An API source needs its client secret."})
    source.save()
    return source


def _client(source: RosterSource) -> RestClient:
    try:
        secret = unseal(source.client_secret_sealed, purpose=SECRET_PURPOSE)
    except SecretUnreadable:
        raise RosterProblem(
            "The stored client secret cannot be read (the site's keys changed): type it "
            "again on the source's page."
        ) from None
    return RestClient(
        base_url=source.base_url,
        token_url=source.token_url,
        client_id=source.client_id,
        client_secret=secret,
    )


def reader_for(source: RosterSource, sync_report, *, bundle=None, since=None, change_version=None):
    """The reader of a source: ``bundle`` (a path or the bytes of a zip) for a CSV source
    (its ``bundle_path`` by default); ``since`` asks a OneRoster API for a delta,
    ``change_version`` an Ed-Fi API (Change Queries)."""
    touch = source.touch_code_set()
    if source.kind == SourceKind.ONEROSTER_CSV:
        if not (bundle or source.bundle_path):
            raise RosterProblem("no bundle: upload one or set the source's bundle path")
        if not bundle:
            try:
                bundle = str(source.bundle_file())
            except ValidationError as refused:
                raise RosterProblem(refused.messages[0]) from None
        return CsvBundle(
            bundle, student_key=source.student_key, touch_codes=touch, report=sync_report
        )
    if source.kind == SourceKind.ONEROSTER_API:
        return RestApi(
            _client(source),
            since=since,
            student_key=source.student_key,
            touch_codes=touch,
            report=sync_report,
        )
    return EdFiApi(_client(source), touch_codes=touch, report=sync_report, since=change_version)


def run_create(*, source: RosterSource, trigger: str, apply: bool, by=None) -> RosterRun:
    """A new run of ``source`` (queued). Refused while another run of it is under way."""
    if RosterRun.unscoped.filter(source=source, status__in=RUNNING).exists():
        raise ValidationError("A run of this source is under way; wait for it to finish.")
    return RosterRun.unscoped.create(
        district_id=source.district_id,
        source=source,
        trigger=trigger,
        apply=apply,
        started_by=by,
    )


def run_execute(run_id: int, *, bundle=None) -> Outcome:
    """Read the run's source, compare, apply when the run asks to and the errors allow.
    Outside a request: the run, its source and the district's rows are read unscoped."""
    run = RosterRun.unscoped.select_related("source", "district").get(pk=run_id)
    source = run.source
    nightly = run.trigger == RunTrigger.NIGHTLY
    since = source.delta_since if nightly else None
    change_version = source.change_version if nightly else None
    out = run_sync(
        run,
        lambda report: reader_for(
            source, report, bundle=bundle, since=since, change_version=change_version
        ),
        apply=run.apply,
        duplicates_are_errors=source.kind != SourceKind.EDFI,
    )
    if out.applied:
        RosterSource.unscoped.filter(pk=source.pk).update(delta_since=run.created_at)
        auditlog.record(
            auditlog.Kind.BULK,
            district=run.district,
            obj=run,
            detail=(
                f"roster applied: {out.students_created} students new, {out.students_updated} "
                f"changed, {out.students_left} left; staff {out.staff_created} new, "
                f"{out.staff_updated} changed"
            ),
            user=run.started_by,
        )
    return out


def source_approve(*, source: RosterSource, by) -> None:
    """A district admin approved a preview of ``source``: it may apply, and runs nightly."""
    if not source.approved_at:
        source.nightly, source.approved_at, source.approved_by = True, timezone.now(), by
        source.save(update_fields=["nightly", "approved_at", "approved_by", "updated_at"])


@transaction.atomic
def run_approve(*, preview: RosterRun, by) -> RosterRun:
    """Apply what a preview showed: a new run reads the source again and applies it in one
    transaction, and the source runs every night from now on."""
    if not preview.can_apply:
        raise ValidationError("Only a finished preview within the errors allowed can be applied.")
    source = RosterSource.unscoped.get(pk=preview.source_id)
    source_approve(source=source, by=by)
    run = run_create(source=source, trigger=RunTrigger.PAGE, apply=True, by=by)
    enqueue_run(run)
    return run


def enqueue_run(run: RosterRun) -> None:
    """Queue the run for the worker, after the transaction commits."""
    from .tasks import run_roster  # the task module imports this one

    enqueue(run_roster, run.pk)


def run_mark_failed(run_id: int, message: str) -> None:
    """A run whose worker could not finish it (the task's last word)."""
    RosterRun.unscoped.filter(pk=run_id, status__in=RUNNING).update(
        status=RunStatus.FAILED, phase="", errors=[message], error_count=1,
        finished_at=timezone.now(),
    )  # fmt: skip
