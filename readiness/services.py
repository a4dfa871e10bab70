"""Computing readiness and storing it: the rules behind the jobs (readiness/tasks.py).

``compute(schools, as_of)`` runs every registered indicator once for the whole set of
schools (a fixed number of grouped queries, whatever the number of schools), scores each
against the district's target and weight, and folds the scores into pillars and an overall
score. ``execute_run(run)`` stores the results as snapshots, at most one per school and
run, and none when a school's result equals its latest snapshot. Formulas: docs/readiness.md.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import attrgetter
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from core.queue import enqueue, is_pending, once_per_district_after_commit, send
from schools.bulk import copy_rows
from schools.models import District, School
from schools.pillars import Pillar
from schools.scoping import outside_scope

from .indicators import REGISTRY, Context, Reading, overall, weighted_mean
from .models import IndicatorTarget, ReadinessRun, RunKind, RunStatus, Snapshot

PILLARS = list(Pillar.values)


# --- targets ---------------------------------------------------------------------------


def targets_for(district_ids) -> dict[int, dict[str, tuple[float, float]]]:
    """{district: {indicator: (target, weight)}}: the registry's defaults, overridden by the
    district's IndicatorTarget rows (one query)."""
    defaults = {key: (spec.target, spec.weight) for key, spec in REGISTRY.items()}
    found = {d: dict(defaults) for d in district_ids}
    for row in IndicatorTarget.unscoped.filter(district_id__in=list(district_ids)):
        if row.indicator in REGISTRY and row.district_id in found:
            default_weight = REGISTRY[row.indicator].weight
            found[row.district_id][row.indicator] = (
                row.target,
                default_weight if row.weight is None else row.weight,
            )
    return found


# --- computing -------------------------------------------------------------------------


@dataclass
class IndicatorResult:
    key: str
    pillar: str
    value: float | None
    score: float | None
    target: float
    weight: float
    evidence: int
    detail: str

    @property
    def stored_value(self) -> float | None:
        """The value as a snapshot stores it (and its fingerprint digests it)."""
        return None if self.value is None else round(self.value, 6)

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "pillar": self.pillar,
            "value": self.stored_value,
            "score": self.score,
            "target": self.target,
            "weight": self.weight,
            "evidence": self.evidence,
            "detail": self.detail,
        }


@dataclass
class SchoolResult:
    school: School
    indicators: list[IndicatorResult] = field(default_factory=list)
    pillars: dict[str, float | None] = field(default_factory=dict)
    overall: float | None = None

    @property
    def fingerprint(self) -> str:
        """A digest of everything the result says (not when it was computed)."""
        body = {
            "school": self.school.pk,
            "indicators": [
                [i.key, i.stored_value, i.evidence, i.target, i.weight]
                for i in sorted(self.indicators, key=attrgetter("key"))
            ],
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def score_school(
    school: School, readings: dict[str, Reading], targets: dict[str, tuple[float, float]]
) -> SchoolResult:
    """Score one school's readings: indicator → pillar (weighted mean) → overall (mean)."""
    result = SchoolResult(school=school)
    for key in sorted(readings):
        spec, reading = REGISTRY[key], readings[key]
        target, weight = targets[key]
        result.indicators.append(
            IndicatorResult(
                key=key,
                pillar=spec.pillar,
                value=reading.value,
                score=spec.score(reading.value, target),
                target=target,
                weight=weight,
                evidence=reading.evidence if reading.value is not None else 0,
                detail=reading.detail,
            )
        )
    for pillar in PILLARS:
        result.pillars[pillar] = weighted_mean(
            (i.score, i.weight) for i in result.indicators if i.pillar == pillar
        )
    result.overall = overall(result.pillars)
    return result


def compute(schools, as_of: date | None = None, *, readers: int = 1) -> list[SchoolResult]:
    """Every indicator for every school of ``schools`` (a queryset or list), as of a day;
    ``readers``: how many threads read the figures (``read_indicators``)."""
    as_of = as_of or timezone.localdate()
    with outside_scope():
        query = schools.order_by().values("pk") if isinstance(schools, QuerySet) else None
        schools = list(schools)
        ctx = Context(today=as_of, schools_query=query)
        if len(schools) < PARALLEL_FROM_SCHOOLS:
            readers = 1
        readings = read_indicators(schools, ctx, readers=readers)
        targets = targets_for({s.district_id for s in schools})
    return [
        score_school(
            school,
            {key: per_school[school.pk] for key, per_school in readings.items()},
            targets[school.district_id],
        )
        for school in schools
    ]


# Below this many schools a run reads on one connection: its reads take tens of
# milliseconds, less than opening another connection and starting a thread.
PARALLEL_FROM_SCHOOLS = 200


def parallel_readers() -> int:
    """How many threads may read a run's figures at once: ``READINESS_READERS`` on
    PostgreSQL. One where another connection would not see what this one sees: on SQLite,
    and inside a transaction (a test's, a command's), whose uncommitted rows only its own
    connection reads. Decided before the run opens its own transaction (``without_jit``)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, int(getattr(settings, "READINESS_READERS", 1)))


def read_indicators(schools: list, ctx: Context, *, readers: int = 1) -> dict[str, dict]:
    """Every indicator's readings, ``{key: {school_id: Reading}}`` in the registry's order.

    A district's figures are about twenty grouped scans, each independent of the others
    (figures several indicators share are computed once: ``Context.once``). With
    ``readers`` > 1 that many threads take the indicators one at a time, this thread and
    ``readers - 1`` others, each on its own database connection (closed when it is done):
    the scans run side by side on the database's cores while Python scores what has come
    back. Each statement reads committed data, as it does on one connection; the first
    failure is raised here once every reader has stopped."""
    if readers <= 1:
        return {key: spec.compute(schools, ctx) for key, spec in REGISTRY.items()}
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for item in REGISTRY.items():
        todo.put(item)
    readings: dict[str, dict] = {}
    failures: list[BaseException] = []

    def read(own_connection: bool) -> None:
        try:
            with outside_scope():
                while not failures:
                    try:
                        key, spec = todo.get_nowait()
                    except queue.Empty:
                        return
                    readings[key] = spec.compute(schools, ctx)
                    ctx.readers.add(threading.current_thread().name)
        except BaseException as exc:  # raised in the caller's thread, below
            failures.append(exc)
        finally:
            if own_connection:
                connections.close_all()  # this thread's connections only

    others = [
        threading.Thread(target=read, args=(True,), name=f"readiness-reader-{n}")
        for n in range(1, readers)
    ]
    for thread in others:
        thread.start()
    read(False)
    for thread in others:
        thread.join()
    if failures:
        raise failures[0]
    return {key: readings[key] for key in REGISTRY}


# --- storing ---------------------------------------------------------------------------


def _latest_ids(school_ids):
    """A subquery of the latest snapshot id of each school."""
    latest = (
        Snapshot.unscoped.filter(school=OuterRef("pk"))
        .order_by("-computed_at", "-pk")
        .values("pk")[:1]
    )
    return (
        School.unscoped.filter(pk__in=school_ids).annotate(latest=Subquery(latest)).values("latest")
    )


class Scores(NamedTuple):
    """The part of a snapshot that lists of many schools show."""

    school_id: int
    overall: float | None
    pillars: dict
    confirmed_at: datetime


def latest_snapshots(school_ids, *, scores_only: bool = False) -> dict[int, Snapshot | Scores]:
    """Each school's latest snapshot (one query). ``scores_only`` reads only the scores
    (``Scores``, no model instance, no indicators' JSON of about 4 KB a school): lists of
    1,800 schools show only the overall and pillar scores."""
    snapshots = Snapshot.unscoped.filter(pk__in=_latest_ids(list(school_ids)))
    if scores_only:
        fields = Scores._fields
        return {row[0]: Scores(*row) for row in snapshots.values_list(*fields)}
    return {s.school_id: s for s in snapshots}


SNAPSHOT_FIELDS = [
    "school",
    "run",
    "computed_at",
    "confirmed_at",
    "as_of",
    "fingerprint",
    "overall",
    "pillars",
    "indicators",
]


def _sqlite_stamp(at: datetime) -> str:
    return connection.ops.adapt_datetimefield_value(at)


def store(run: ReadinessRun, results: list[SchoolResult], at: datetime) -> tuple[int, int]:
    """Store the results of ``run``: (snapshots stored, schools unchanged).

    A school that already has a snapshot of this run (a re-delivered task) is skipped; a
    school whose latest snapshot has the same fingerprint gets no new row, only a new
    ``confirmed_at``."""
    ids = [r.school.pk for r in results]
    with transaction.atomic():
        done = set(
            Snapshot.unscoped.filter(run=run, school_id__in=ids).values_list("school_id", flat=True)
        )
        # Only what the comparison needs: not the indicators' JSON of every school.
        latest = {
            school_id: (pk, fingerprint, computed_at)
            for pk, school_id, fingerprint, computed_at in Snapshot.unscoped.filter(
                pk__in=_latest_ids(ids)
            ).values_list("pk", "school_id", "fingerprint", "computed_at")
        }
        unchanged, new = [], []
        as_of = run.as_of or timezone.localdate()
        # COPY reads an ISO timestamp; SQLite compares stored text, so there the column's
        # own format (Django's), or "latest" would sort a COPY'd row apart from the rest.
        stamp = at if connection.vendor == "postgresql" else _sqlite_stamp(at)
        for r in results:
            if r.school.pk in done:
                continue
            fingerprint = r.fingerprint
            previous_pk, previous_fingerprint, previous_at = latest.get(
                r.school.pk, (None, None, None)
            )
            if previous_pk is not None and previous_fingerprint == fingerprint:
                if previous_at <= at:
                    unchanged.append(previous_pk)
                continue
            new.append(
                (
                    r.school.pk,
                    run.pk,
                    stamp,
                    stamp,
                    as_of,
                    fingerprint,
                    r.overall,
                    r.pillars,
                    [i.as_json() for i in r.indicators],
                )
            )
        if unchanged:
            Snapshot.unscoped.filter(pk__in=unchanged).update(confirmed_at=at)
        # One COPY for the district (executemany on SQLite): a multi-row INSERT of 1,800
        # schools' JSON took longer to parse and plan than the rows take to store.
        with connection.wrap_database_errors:
            copy_rows(Snapshot, SNAPSHOT_FIELDS, new)
    return len(new), len(unchanged)


def district_summary(district_id: int) -> dict:
    """The mean overall and pillar scores of the district's schools' latest snapshots."""
    rows = list(
        Snapshot.unscoped.filter(
            pk__in=_latest_ids(School.unscoped.filter(district_id=district_id).values("pk"))
        ).values_list("overall", "pillars")
    )

    def mean(values):
        values = [v for v in values if v is not None]
        return round(sum(values) / len(values), 1) if values else None

    return {
        "schools": len(rows),
        "overall": mean(o for o, _p in rows),
        "pillars": {p: mean(pillars.get(p) for _o, pillars in rows) for p in PILLARS},
    }


# --- runs ------------------------------------------------------------------------------


def request_run(
    *, district_id: int, school_id: int | None = None, kind: str, user=None, as_of=None
) -> ReadinessRun:
    """Record a run and queue it once the current transaction commits."""
    from .tasks import compute_run

    with outside_scope():
        run = ReadinessRun.unscoped.create(
            district_id=district_id,
            school_id=school_id,
            kind=kind,
            requested_by=user,
            as_of=as_of,
        )
    enqueue(compute_run, run.pk)
    return run


def recompute(*, district_id: int, school_id: int | None = None, user=None):
    """ "Recompute now": queue a run unless one covering the same schools is already queued
    or running (the district's run covers its schools). Returns (run, queued)."""
    from django.db.models import Q

    pending = ReadinessRun.objects.filter(
        district_id=district_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    )
    if school_id:
        pending = pending.filter(Q(school_id=school_id) | Q(school__isnull=True))
    else:
        pending = pending.filter(school__isnull=True)
    found = pending.order_by("-created_at").first()
    if found is not None:
        return found, False
    run = request_run(district_id=district_id, school_id=school_id, kind=RunKind.MANUAL, user=user)
    return run, True


def run_at(run: ReadinessRun) -> datetime:
    """When a run's snapshots are dated: now, or noon of ``as_of`` for a back-dated run."""
    if run.as_of is None:
        return timezone.now()
    return timezone.make_aware(datetime.combine(run.as_of, time(12)))


class RunFailed(Exception):
    pass


@contextmanager
def without_jit():
    """Read a run's figures with PostgreSQL's JIT compilation off (its own transaction, so
    the setting ends with it). A district run is about twenty grouped scans; above the
    planner's cost threshold each one paid 0.1–0.3 s to compile expressions it then ran
    once (docs/scale.md, Readiness). Elsewhere (SQLite) nothing changes."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
            previous = cursor.fetchone()[0]
        yield
        # Inside an outer transaction (a command, a test) this block is a savepoint, whose
        # release keeps a local setting: put it back. A failure rolls it back anyway.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('jit', %s, true)", [previous])


def execute_run(run_id: int, *, final_attempt: bool = True) -> ReadinessRun | None:
    """Compute and store one run. A run already done is left alone (re-delivery stores
    nothing). Failures are written to the run, so the dashboards show them."""
    runs = ReadinessRun.unscoped.filter(pk=run_id)
    run = runs.select_related("district", "school").first()
    if run is None or run.status == RunStatus.DONE:
        return None
    runs.update(status=RunStatus.RUNNING, started_at=timezone.now(), attempts=run.attempts + 1)
    try:
        with outside_scope():
            schools = School.unscoped.select_related("district").order_by("pk")
            if run.school_id:
                schools = schools.filter(pk=run.school_id)
            else:
                schools = schools.filter(district_id=run.district_id)
            readers = parallel_readers()
            with without_jit():
                results = compute(schools, run.as_of, readers=readers)
            try:
                stored, unchanged = store(run, results, run_at(run))
            except IntegrityError:
                # A concurrent delivery of the same run stored first: one result per run.
                stored, unchanged = 0, len(results)
            summary = district_summary(run.district_id)
    except OperationalError as exc:
        status = RunStatus.FAILED if final_attempt else RunStatus.QUEUED
        message = "The database was unavailable" + ("." if final_attempt else "; retrying.")
        runs.update(status=status, error=f"{message} ({type(exc).__name__})"[:300])
        raise
    except Exception as exc:
        runs.update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=_failure_message(exc),
        )
        raise
    runs.update(
        status=RunStatus.DONE,
        finished_at=timezone.now(),
        error="",
        snapshots_stored=stored,
        schools_unchanged=unchanged,
        summary=summary,
    )
    run.refresh_from_db()
    return run


def _failure_message(exc: Exception) -> str:
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, SoftTimeLimitExceeded):
        return "The computation took longer than its time limit and was stopped."
    return f"The computation failed ({type(exc).__name__}); the last scores are still shown."


def run_now(*, district_id: int, school_id: int | None = None, kind: str, as_of=None):
    """Create a run and execute it in this process (the command line, the demo)."""
    with outside_scope():
        run = ReadinessRun.unscoped.create(
            district_id=district_id, school_id=school_id, kind=kind, as_of=as_of
        )
    return execute_run(run.pk)


# --- debounce of evidence changes ------------------------------------------------------


def debounce_seconds() -> int:
    return int(getattr(settings, "READINESS_DEBOUNCE_SECONDS", 120))


# A change run still waiting this long after its countdown, and not held for a stopped
# broker, lost its message (a broker that restarted empty): the next change replaces it.
LOST_AFTER = timedelta(minutes=15)


def waiting_change_run(district_id: int) -> ReadinessRun | None:
    """The district's change run that has not started yet, if any: later changes join it."""
    return (
        ReadinessRun.unscoped.filter(
            district_id=district_id, kind=RunKind.CHANGE, status=RunStatus.QUEUED
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def _is_lost(run: ReadinessRun) -> bool:
    from .tasks import compute_run

    due = run.created_at + timedelta(seconds=debounce_seconds())
    return timezone.now() - due > LOST_AFTER and not is_pending(compute_run, run.pk)


def claim_change_run(district_id: int) -> ReadinessRun | None:
    """Create the district's one waiting change run, or None when one already waits.

    The marker is the run row itself, in the database: it is there whether or not Redis
    is (a cache flag read as "already queued" while Redis was down, so no run was ever
    queued). The district's row is locked while looking, so two commits at once create
    one run. The run leaves "queued" when it starts: changes after that queue the next."""
    with outside_scope(), transaction.atomic():
        list(District.unscoped.select_for_update().filter(pk=district_id).values("pk"))
        waiting = waiting_change_run(district_id)
        if waiting is not None and not _is_lost(waiting):
            return None
        if waiting is not None:
            ReadinessRun.unscoped.filter(pk=waiting.pk, status=RunStatus.QUEUED).update(
                status=RunStatus.FAILED,
                finished_at=timezone.now(),
                error="Its queue message was lost; a later change queued a new run.",
            )
        return ReadinessRun.unscoped.create(district_id=district_id, kind=RunKind.CHANGE)


# The rule's name among core.queue's per-district callbacks (tests find them by it).
PURPOSE = "readiness.change_run"


def _queue_after_commit(district_id: int) -> None:
    """Run after the commit: queue one delayed run of the district, unless one waits."""
    from .tasks import compute_run

    run = claim_change_run(district_id)
    if run is not None:
        # After the commit: sent, or held (core.PendingTask) while the broker is down.
        send(compute_run.name, [run.pk], countdown=debounce_seconds())


def note_change(district_ids) -> None:
    """Evidence of these districts changed: lead to exactly one delayed run per district.

    Every write path ends here: it announces ``schools.signals.evidence_changed``, which
    readiness/signals.py listens to. Within one transaction only one callback per
    district is registered (a 1,000-row import registers one; core.queue's
    ``once_per_district_after_commit``); after the commit ``claim_change_run`` lets only
    one run wait at a time. A rollback queues nothing."""
    once_per_district_after_commit(PURPOSE, district_ids, _queue_after_commit)


# --- district targets ------------------------------------------------------------------


def save_targets(district, values: dict[str, tuple[float, float]]) -> None:
    """Store a district's targets and weights: a row only where they differ from the
    defaults. Every row is validated first (``IndicatorTarget.clean``); then all are written
    in one transaction, so a refused value leaves nothing half saved."""
    from django.core.exceptions import ValidationError

    wanted, errors = [], {}
    for key, (target, weight) in values.items():
        spec = REGISTRY[key]
        if target == spec.target and weight == spec.weight:
            continue
        row = IndicatorTarget(
            district=district,
            indicator=key,
            target=target,
            weight=None if weight == spec.weight else weight,
        )
        try:
            row.clean_fields(exclude=["district"])
            row.clean()
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                errors[f"{key}__{field_name}"] = messages
        wanted.append(row)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        IndicatorTarget.unscoped.filter(district=district).delete()
        IndicatorTarget.unscoped.bulk_create(wanted)
