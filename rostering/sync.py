"""A roster run: read the whole source into keyed temporary tables, compare, then (when
asked and allowed) apply everything in one transaction through the inventory's bulk
writers.

Why one long module: the run is one algorithm whose phases share the staging tables and
the counters; split apart, each half would have to know the other's SQL.

Phases, as the run page shows them:

1. **Reading.** The reader streams records; students go to ``rostering_stage`` (COPY on
   PostgreSQL, in batches), Ed-Fi's equity indicators to ``rostering_stage_equity``, the
   ids of ``/students`` to ``rostering_stage_ids``. Only keys, grades and flags are
   staged, so memory stays flat however large the roster; staff (a district has one per
   fifteen students) are kept in a list. Nothing of the district's data is written yet, and
   a source that stops half way (a server error that outlasts the retries) ends the run
   here: nothing applied.
2. **Resolving.** One row per student (``rostering_resolved``): of several enrolments the
   active one that began last (Ed-Fi keeps the history); a OneRoster user listed twice is an
   error. A student at a school the district does not have is counted as unmatched.
3. **Comparing**, batch by batch by local ID: each batch is checked against the district's
   students (``equity.inventory.bulk.students_existing`` and ``student_target``, the rules
   the student importer follows) for new, changed and unchanged students and grades the
   school does not teach. Leavers are counted in SQL: a student the source says left, and
   (in a full read) every active student of a matched school the source no longer lists.
4. **Applying**, in one ``transaction.atomic``: ``StudentsBulkUpsert`` over the good rows,
   one UPDATE marking leavers (``active=False``, ``left_on``, ``leave_reason``: never a
   delete), the connectivity rows that differ, the staff roster
   (``schools.services.staff_roster_apply``) and the enrollment per grade band of the
   matched schools from their active students (``schools.services.enrollment_from_roster``;
   a school whose typed figures override the roster keeps them). A failure anywhere rolls
   all of it back. A run with more records in error than the source allows applies nothing.

A second run over an unchanged source writes nothing: every write above is limited to
rows that differ.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from equity.inventory.bulk import (
    StudentsBulkUpsert,
    StudentUpsert,
    student_target,
    students_existing,
)
from equity.inventory.models import LeaveReason, Student
from equity.inventory.selectors import active_students_by_band
from schools.bulk import copy_into
from schools.models import Grade, School, StaffMember
from schools.services import enrollment_from_roster, staff_roster_apply
from schools.signals import evidence_changed

from .models import RosterRun, RunStatus, StudentConnectivity
from .records import EquityRecord, RosterProblem, SchoolRecord, StaffRecord

BATCH = 5000
MAX_ERRORS_KEPT = 1000
PROGRESS_SECONDS = 0.5

STAGE = "rostering_stage"
STAGE_EQUITY = "rostering_stage_equity"
STAGE_IDS = "rostering_stage_ids"
RESOLVED = "rostering_resolved"
TABLES = (STAGE, STAGE_EQUITY, STAGE_IDS, RESOLVED)

STAGE_COLUMNS = (
    ("seq", "integer NOT NULL"),
    ("ref", "varchar(200) NOT NULL"),
    ("local_id", "varchar(40) NOT NULL"),
    ("school_id", "bigint NULL"),
    ("grade", "smallint NULL"),
    ("active", "boolean NOT NULL"),
    ("leave_reason", "varchar(20) NOT NULL"),
    ("entry", "varchar(10) NOT NULL"),
    ("needs_touch", "boolean NULL"),
)
EQUITY_COLUMNS = (
    ("local_id", "varchar(40) NOT NULL"),
    ("home_internet", "varchar(10) NULL"),
    ("access_type", "varchar(60) NOT NULL"),
    ("performance", "varchar(60) NOT NULL"),
    ("barrier", "varchar(60) NOT NULL"),
    ("device_access", "varchar(60) NOT NULL"),
    ("device_provider", "varchar(60) NOT NULL"),
    ("needs_touch", "boolean NULL"),
)
CONNECTIVITY_FIELDS = ("access_type", "performance", "barrier", "device_access", "device_provider")
# Positions the staff roster is kept for by a roster source; others are typed by hand and
# never marked as left by a sync.
ROSTER_POSITIONS = {"teacher", "administrator", "paraprofessional", "counselor", "librarian",
                    "special_education", "instructional_coach"}  # fmt: skip

JSON_KEYS = (
    "schools_matched",
    "schools_unmatched",
    "students_created",
    "students_updated",
    "students_left",
    "staff_created",
    "staff_updated",
    "errors",
)


@dataclass
class Outcome:
    """What a run found (and, once applied, wrote)."""

    schools_matched: int = 0
    schools_unmatched: list[str] = field(default_factory=list)
    students_created: int = 0
    students_updated: int = 0
    students_unchanged: int = 0
    students_left: int = 0
    students_unmatched: int = 0
    staff_created: int = 0
    staff_updated: int = 0
    staff_left: int = 0
    connectivity_changed: int = 0
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    fatal: str = ""
    notes: list[str] = field(default_factory=list)
    records_read: int = 0
    delta: bool = False
    applied: bool = False
    refused: bool = False

    def counts(self) -> dict:
        return {
            "schools_matched": self.schools_matched,
            "schools_unmatched": self.schools_unmatched,
            "students_created": self.students_created,
            "students_updated": self.students_updated,
            "students_left": self.students_left,
            "staff_created": self.staff_created,
            "staff_updated": self.staff_updated,
            "students_unchanged": self.students_unchanged,
            "students_unmatched": self.students_unmatched,
            "staff_left": self.staff_left,
            "connectivity_changed": self.connectivity_changed,
        }

    def as_json(self) -> dict:
        shown = {key: getattr(self, key) for key in JSON_KEYS}
        return {**shown, **self.counts(), "errors": self.all_errors(), "applied": self.applied}

    def all_errors(self) -> list[str]:
        errors = ([self.fatal] if self.fatal else []) + self.errors
        more = self.error_count - len(self.errors)
        return errors + ([f"… and {more} more"] if more > 0 else [])


def _sql(sql: str, params: Iterable = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall() if cursor.description else []


def _create(table: str, columns) -> None:
    spec = ", ".join(f"{name} {kind}" for name, kind in columns)
    _sql(f"DROP TABLE IF EXISTS {table}")
    _sql(f"CREATE TEMPORARY TABLE {table} ({spec})")


def drop_stage() -> None:
    for table in TABLES:
        _sql(f"DROP TABLE IF EXISTS {table}")


def _in(values: list) -> tuple[str, list]:
    if not values:
        return "(NULL)", []
    return f"({', '.join(['%s'] * len(values))})", list(values)


class Sync:
    """One run over ``reader`` for ``run`` (its source and district)."""

    def __init__(self, run: RosterRun, *, today: date | None = None):
        self.run = run
        self.reader = None
        self.source = run.source
        self.district_id = run.district_id
        self.today = today or timezone.localdate()
        self.out = Outcome()
        self._last_progress = 0.0
        self.staff: list[StaffRecord] = []
        self.school_of: dict[str, int] = {}
        self.matched_ids: set[int] = set()

    # --- reporting -------------------------------------------------------------------

    def report(self, where: str, message: str) -> None:
        self.out.error_count += 1
        if len(self.out.errors) < MAX_ERRORS_KEPT:
            self.out.errors.append(f"{where}: {message}")

    def progress(self, phase: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_SECONDS:
            return
        self._last_progress = now
        RosterRun.unscoped.filter(pk=self.run.pk).update(
            phase=phase[:200], records_read=self.out.records_read
        )

    # --- 1. reading ------------------------------------------------------------------

    def read(self) -> None:
        _create(STAGE, STAGE_COLUMNS)
        _create(STAGE_EQUITY, EQUITY_COLUMNS)
        self.progress("Reading the schools", force=True)
        self._match_schools(self.reader.schools())
        self.progress("Reading students and staff", force=True)
        self._stage_people(self.reader.people())
        if hasattr(self.reader, "equity"):
            self.progress("Reading the digital-equity indicators", force=True)
            self._stage_equity(self.reader.equity())
        if hasattr(self.reader, "student_ids"):
            self.progress("Reading the students' ids", force=True)
            self._check_ids(self.reader.student_ids())
        self.out.notes.extend(self.reader.ignored)

    def _match_schools(self, records: Iterable[SchoolRecord]) -> None:
        by_code = {
            code.lower(): pk
            for pk, code in School.unscoped.filter(district_id=self.district_id).values_list(
                "pk", "code"
            )
        }
        for rec in records:
            self.out.records_read += 1
            pk = by_code.get(rec.identifier.lower()) or by_code.get(rec.key.lower())
            if pk is None:
                label = f"{rec.name} ({rec.identifier or rec.key})" if rec.name else rec.key
                self.out.schools_unmatched.append(label)
                continue
            self.school_of[rec.key] = pk
            self.matched_ids.add(pk)
        self.out.schools_matched = len(self.matched_ids)

    def _stage_people(self, records) -> None:
        batch: list[tuple] = []
        names = [n for n, _ in STAGE_COLUMNS]
        seq = 0
        for rec in records:
            self.out.records_read += 1
            if isinstance(rec, StaffRecord):
                self.staff.append(rec)
                continue
            seq += 1
            school_id = self.school_of.get(rec.school_key)
            batch.append(
                (
                    seq,
                    rec.ref[:200],
                    rec.local_id,
                    school_id,
                    rec.grade,
                    rec.active,
                    rec.leave_reason,
                    rec.entry[:10],
                    rec.needs_touch,
                )
            )
            if len(batch) >= BATCH:
                copy_into(STAGE, names, batch)
                batch = []
            self.progress(f"Reading students and staff: {self.out.records_read:,} records")
        copy_into(STAGE, names, batch)

    def _stage_equity(self, records: Iterable[EquityRecord]) -> None:
        batch: list[tuple] = []
        names = [n for n, _ in EQUITY_COLUMNS]
        for rec in records:
            self.out.records_read += 1
            batch.append(rec[1:])
            if len(batch) >= BATCH:
                copy_into(STAGE_EQUITY, names, batch)
                batch = []
            self.progress(f"Reading the equity indicators: {self.out.records_read:,} records")
        copy_into(STAGE_EQUITY, names, batch)

    def _check_ids(self, ids: Iterable[str]) -> None:
        """Ed-Fi: an association naming a student ``/students`` does not have is an error."""
        _create(STAGE_IDS, (("local_id", "varchar(40) NOT NULL"),))
        batch: list[tuple] = []
        for uid in ids:
            self.out.records_read += 1
            batch.append((uid[:40],))
            if len(batch) >= BATCH:
                copy_into(STAGE_IDS, ["local_id"], batch)
                batch = []
        copy_into(STAGE_IDS, ["local_id"], batch)
        _sql(f"CREATE INDEX {STAGE_IDS}_key ON {STAGE_IDS} (local_id)")
        orphans = _sql(
            f"SELECT seq, ref, local_id FROM {STAGE} s WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {STAGE_IDS} i WHERE i.local_id = s.local_id) ORDER BY seq"
        )
        for _seq, ref, local_id in orphans:
            self.report(ref, f"student {local_id} is not in /students")
        if orphans:
            _sql(
                f"DELETE FROM {STAGE} WHERE NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {STAGE_IDS} i WHERE i.local_id = {STAGE}.local_id)"
            )

    # --- 2. resolving ----------------------------------------------------------------

    def resolve(self, duplicates_are_errors: bool) -> None:
        self.progress("Comparing with the district's records", force=True)
        _sql(f"CREATE INDEX {STAGE}_key ON {STAGE} (local_id)")
        _sql(f"CREATE INDEX {STAGE_EQUITY}_key ON {STAGE_EQUITY} (local_id)")
        _sql(f"ANALYZE {STAGE}")
        _sql(f"ANALYZE {STAGE_EQUITY}")
        if duplicates_are_errors:
            for ref, local_id in _sql(
                f"SELECT ref, local_id FROM {STAGE} s WHERE EXISTS (SELECT 1 FROM {STAGE} e "  # noqa: S608
                "WHERE e.local_id = s.local_id AND e.seq < s.seq) ORDER BY seq"
            ):
                self.report(ref, f"student {local_id} is listed again (an earlier row wins)")
        _sql(f"DROP TABLE IF EXISTS {RESOLVED}")
        # One row per student: active first, the latest enrolment, then the first listed.
        _sql(
            f"CREATE TEMPORARY TABLE {RESOLVED} AS "  # noqa: S608
            "SELECT r.local_id, r.ref, r.school_id, r.grade, r.active, r.leave_reason, "
            "COALESCE(e.needs_touch, r.needs_touch) AS needs_touch, e.home_internet, "
            "(e.local_id IS NOT NULL) AS has_equity, e.access_type, e.performance, e.barrier, "
            "e.device_access, e.device_provider, FALSE AS bad FROM ("
            "SELECT s.*, ROW_NUMBER() OVER (PARTITION BY local_id ORDER BY active DESC, "
            f"entry DESC, seq) AS rn FROM {STAGE} s) r "
            # Of several equity rows (a school's and the district's), one that answers.
            "LEFT JOIN (SELECT * FROM (SELECT x.*, ROW_NUMBER() OVER (PARTITION BY local_id "
            f"ORDER BY (home_internet IS NULL)) AS en FROM {STAGE_EQUITY} x) y WHERE en = 1) e "
            "ON e.local_id = r.local_id WHERE r.rn = 1"
        )
        _sql(f"CREATE UNIQUE INDEX {RESOLVED}_key ON {RESOLVED} (local_id)")
        # Autovacuum never analyzes a temporary table: without statistics the planner
        # guesses, and the batches' keyset reads and the leavers' anti-join may sort or scan.
        _sql(f"ANALYZE {RESOLVED}")
        self.out.students_unmatched = _sql(
            f"SELECT COUNT(*) FROM {RESOLVED} WHERE active AND school_id IS NULL"  # noqa: S608
        )[0][0]

    # --- 3. comparing ----------------------------------------------------------------

    def _batches(self, *, good_only: bool):
        """The resolved active students of matched schools, ``BATCH`` at a time, in
        local-ID order (keyset paging: one query per batch, nothing held beyond it)."""
        last = ""
        bad = " AND NOT bad" if good_only else ""
        while True:
            rows = _sql(
                "SELECT local_id, school_id, grade, needs_touch, home_internet, ref "  # noqa: S608
                f"FROM {RESOLVED} WHERE active AND school_id IS NOT NULL{bad} AND local_id > %s "
                "ORDER BY local_id LIMIT %s",
                [last, BATCH],
            )
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def compare(self) -> None:
        spans = {
            pk: (low, high, name)
            for pk, low, high, name in School.unscoped.filter(
                district_id=self.district_id
            ).values_list("pk", "lowest_grade", "highest_grade", "name")
        }
        for rows in self._batches(good_only=False):
            existing = students_existing(self.district_id, [r[0] for r in rows])
            bad = []
            for local_id, school_id, grade, touch, internet, ref in rows:
                row = StudentUpsert(local_id, school_id, grade, touch, internet)
                ex = existing.get(local_id)
                low, high, name = spans[school_id]
                if not low <= grade <= high:
                    self.report(
                        ref,
                        f"student {local_id}: grade {Grade(grade).label} is not taught at {name}",
                    )
                    bad.append(local_id)
                    continue
                target = student_target(row, ex)
                if ex is None:
                    self.out.students_created += 1
                elif target != ex:
                    self.out.students_updated += 1
                else:
                    self.out.students_unchanged += 1
            if bad:
                marks, params = _in(bad)
                _sql(f"UPDATE {RESOLVED} SET bad = TRUE WHERE local_id IN {marks}", params)  # noqa: S608
        leavers = f"SELECT COUNT(*) FROM ({self._leavers_sql()}) x"  # noqa: S608
        self.out.students_left = _sql(leavers, self._leavers_params())[0][0]
        # Connectivity rows to write: of students known (and differing) or about to be new.
        differs = " OR ".join(f"c.{f} <> r.{f}" for f in CONNECTIVITY_FIELDS)
        self.out.connectivity_changed = _sql(
            f"SELECT COUNT(*) FROM {RESOLVED} r LEFT JOIN equity_student st "  # noqa: S608
            "ON st.local_id = r.local_id AND st.district_id = %s "
            "LEFT JOIN rostering_studentconnectivity c ON c.student_id = st.id "
            "WHERE r.has_equity AND NOT r.bad AND r.active AND r.school_id IS NOT NULL "
            f"AND (st.id IS NULL OR c.student_id IS NULL OR {differs})",
            [self.district_id],
        )[0][0]
        self._compare_staff()

    def _leavers_sql(self) -> str:
        """Ids and reasons of the district's active students who leave."""
        said = (
            "SELECT st.id, r.leave_reason FROM equity_student st "  # noqa: S608
            f"JOIN {RESOLVED} r ON r.local_id = st.local_id "
            "WHERE st.district_id = %s AND st.active AND NOT r.active"
        )
        if self.out.delta or not self.matched_ids:
            return said
        marks = ", ".join(["%s"] * len(self.matched_ids))
        gone = (
            "SELECT st.id, 'transferred' FROM equity_student st "  # noqa: S608
            f"WHERE st.district_id = %s AND st.active AND st.school_id IN ({marks}) "
            f"AND NOT EXISTS (SELECT 1 FROM {RESOLVED} r WHERE r.local_id = st.local_id)"
        )
        return f"{said} UNION ALL {gone}"

    def _leavers_params(self) -> list:
        if self.out.delta or not self.matched_ids:
            return [self.district_id]
        return [self.district_id, self.district_id, *sorted(self.matched_ids)]

    def _connectivity_sql(self) -> str:
        """Students whose connectivity row would change (new or different)."""
        differs = " OR ".join(f"c.{f} <> r.{f}" for f in CONNECTIVITY_FIELDS)
        return (
            "SELECT st.id, r.access_type, r.performance, r.barrier, r.device_access, "  # noqa: S608
            f"r.device_provider FROM {RESOLVED} r "
            "JOIN equity_student st ON st.local_id = r.local_id AND st.district_id = %s "
            "LEFT JOIN rostering_studentconnectivity c ON c.student_id = st.id "
            f"WHERE r.has_equity AND NOT r.bad AND (c.student_id IS NULL OR {differs})"
        )

    def _compare_staff(self) -> None:
        """Staff are matched per school by e-mail (or, without one, by name)."""
        existing = list(
            StaffMember.unscoped.filter(school_id__in=self.matched_ids).values_list(
                "pk", "school_id", "email", "full_name", "position", "active"
            )
        )
        by_key = {}
        for pk, school_id, email, name, position, active in existing:
            by_key[(school_id, email or f"name:{name.lower()}")] = (
                pk,
                name,
                email,
                position,
                active,
            )
        seen: set[tuple] = set()
        self.staff_creates: list[dict] = []
        self.staff_updates: list[tuple[int, dict]] = []
        for rec in self.staff:
            school_id = self.school_of.get(rec.school_key)
            if school_id is None:
                continue
            if not rec.full_name:
                self.report(rec.ref, f"staff {rec.key or '?'} has no name")
                continue
            key = (school_id, rec.email or f"name:{rec.full_name.lower()}")
            if key in seen:
                continue  # one person with two assignments at one school
            seen.add(key)
            found = by_key.get(key)
            wanted = {
                "full_name": rec.full_name,
                "email": rec.email,
                "position": rec.position,
                "active": rec.active,
            }
            if found is None:
                if rec.active:
                    self.staff_creates.append({**wanted, "school_id": school_id})
                continue
            pk, name, email, position, active = found
            if (name, email, position, active) != (
                rec.full_name,
                rec.email,
                rec.position,
                rec.active,
            ):
                self.staff_updates.append((pk, wanted))
        self.staff_leaving: list[int] = []
        if not self.out.delta:
            self.staff_leaving = [
                pk
                for (school_id, key), (pk, _n, _e, position, active) in by_key.items()
                if active and position in ROSTER_POSITIONS and (school_id, key) not in seen
            ]
        self.out.staff_created = len(self.staff_creates)
        self.out.staff_updated = len(self.staff_updates)
        self.out.staff_left = len(self.staff_leaving)

    # --- 4. applying -----------------------------------------------------------------

    @transaction.atomic
    def apply(self, now) -> None:
        RosterRun.unscoped.filter(pk=self.run.pk).update(
            status=RunStatus.APPLYING, phase="Applying in one transaction"
        )
        writer = StudentsBulkUpsert(district_id=self.district_id, now=now)
        writer.begin()
        for rows in self._batches(good_only=True):
            writer.write([StudentUpsert(*r[:5]) for r in rows])
        writer.finish()
        self._apply_leavers(now)
        self._apply_connectivity(now)
        staff_roster_apply(
            district_id=self.district_id,
            create=self.staff_creates,
            update=self.staff_updates,
            leaving=self.staff_leaving,
        )
        school_ids = sorted(self.matched_ids)
        enrollment_from_roster(
            school_ids=school_ids, bands=active_students_by_band(school_ids), at=now
        )
        if self._changed():
            evidence_changed.send(sender=Student, district_ids={self.district_id})
        self.out.applied = True

    def _changed(self) -> bool:
        o = self.out
        return bool(
            o.students_created + o.students_updated + o.students_left + o.connectivity_changed
        )

    def _apply_leavers(self, now) -> None:
        if not self.out.students_left:
            return
        reasons = {r.value for r in LeaveReason}
        for reason in reasons:
            _sql(
                "UPDATE equity_student SET active = %s, left_on = %s, leave_reason = %s, "  # noqa: S608
                f"updated_at = %s WHERE id IN (SELECT id FROM ({self._leavers_sql()}) x "
                "WHERE x.leave_reason = %s)",
                [False, self.today, reason, now, *self._leavers_params(), reason],
            )

    def _apply_connectivity(self, now) -> None:
        table = StudentConnectivity._meta.db_table
        fields = ", ".join(CONNECTIVITY_FIELDS)
        sets = ", ".join(f"{f} = excluded.{f}" for f in CONNECTIVITY_FIELDS)
        _sql(
            f"INSERT INTO {table} (student_id, {fields}, updated_at) "  # noqa: S608
            f"SELECT x.*, %s FROM ({self._connectivity_sql()}) x WHERE TRUE "
            f"ON CONFLICT (student_id) DO UPDATE SET {sets}, updated_at = excluded.updated_at",
            [now, self.district_id],
        )


def run_sync(run: RosterRun, make_reader, *, apply: bool, duplicates_are_errors: bool) -> Outcome:
    """Read, compare and, when ``apply`` and within the source's threshold, apply. Records
    the outcome on ``run``. ``make_reader(report)`` opens the source with the run's error
    report. A source that cannot be read applies nothing."""
    sync = Sync(run)
    started = timezone.now()
    out = sync.out
    try:
        RosterRun.unscoped.filter(pk=run.pk).update(status=RunStatus.READING)
        try:
            sync.reader = make_reader(sync.report)
            out.delta = bool(sync.reader.delta)
            sync.read()
            sync.resolve(duplicates_are_errors)
            sync.compare()
        except RosterProblem as exc:
            out.fatal = str(exc)
        out.refused = bool(out.fatal) or out.error_count > run.source.error_threshold
        if apply and not out.refused:
            sync.apply(started)
    except BaseException as exc:
        # Stopped half way (a crash, a time limit, a stopped worker): the apply's transaction
        # rolled back, so nothing was written; the run says so and the error goes on.
        out.fatal = f"stopped before it finished ({exc.__class__.__name__}); nothing applied"
        out.applied = False
        _close(drop_stage)
        _close(lambda: _finish(run, out))
        raise
    drop_stage()
    _finish(run, out)
    return out


def _close(step) -> None:
    """Run a clean-up step after a failure, which may itself fail (a broken connection)."""
    try:
        step()
    except Exception:  # noqa: BLE001 - the first error is the one that matters
        return


def _finish(run: RosterRun, out: Outcome) -> None:
    if out.fatal:
        status = RunStatus.FAILED
    elif out.refused:
        status = RunStatus.REFUSED
    elif out.applied:
        status = RunStatus.APPLIED
    else:
        status = RunStatus.PREVIEWED
    run.status = status
    run.phase = ""
    run.records_read = out.records_read
    run.delta = out.delta
    run.counts = out.counts()
    run.errors = ([out.fatal] if out.fatal else []) + out.errors
    run.error_count = out.error_count + (1 if out.fatal else 0)
    run.notes = out.notes
    run.finished_at = timezone.now()
    run.save()
