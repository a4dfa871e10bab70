"""A roster run: read the whole source into keyed temporary tables, compare, then (when
asked and allowed) apply everything in one transaction through the inventory's bulk
writers.

Why one long module: the run is one algorithm whose phases share the staging tables and
the counters; split apart, each half would have to know the other's SQL.

Phases, as the run page shows them:

1. **Reading.** The reader streams records; students go to ``rostering_stage`` and staff
   to ``rostering_stage_staff`` (COPY on PostgreSQL, in batches of ``BATCH``), Ed-Fi's
   equity indicators to ``rostering_stage_equity``, the ids of ``/students`` to
   ``rostering_stage_ids``. Only keys, grades and flags (and staff's names and e-mails)
   are staged and no record outlives its batch, so memory stays flat however large the
   roster. Nothing of the district's data is written yet, and a source that stops half way
   (a server error that outlasts the retries) ends the run here: nothing applied.
2. **Resolving.** One row per student (``rostering_resolved``): of several enrolments the
   active one that began last (Ed-Fi keeps the history); a OneRoster user listed twice is an
   error. A student at a school the district does not have is counted as unmatched.
3. **Comparing**, set-based: grades a school does not teach are errors (one join with the
   schools); one statement joins the resolved roster to the district's students into
   ``rostering_target`` (new, changed, unchanged, with the values ``student_target``'s
   rule gives: blank keeps, whoever is listed is enrolled again); one more collects the
   leavers into ``rostering_leaving`` (a student the source says left and, in a full read,
   every active student of a matched school the source no longer lists, by anti-join);
   staff likewise into ``rostering_staff_target`` and ``rostering_staff_leaving``. Errors
   are fetched only as many as a run keeps (``MAX_ERRORS_KEPT``) and counted in SQL.
4. **Applying**, in one ``transaction.atomic``, from those tables: one INSERT ... SELECT of
   the new students, one UPDATE ... FROM of the changed, one UPDATE of the leavers
   (``active=False``, ``left_on``, ``leave_reason``: never a delete), the connectivity rows
   that differ, the staff that differ (``schools.services.staff_roster_apply``), the
   enrollment per grade band of the matched schools from their active students
   (``schools.services.enrollment_from_roster``; a school whose typed figures override the
   roster keeps them) and, for Ed-Fi, the change version read. A failure anywhere rolls
   all of it back. A run with more records in error than the source allows applies nothing.

The same SQL runs on SQLite (``make run``, the tests): only the staging differs
(``copy_into`` inserts in batches there instead of COPY).

A second run over an unchanged source writes nothing: every write above is limited to
rows that differ.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from equity.inventory.fastwrite import STUDENT_COPY_FIELDS
from equity.inventory.models import HomeInternet, Student
from equity.inventory.selectors import active_students_by_band
from schools.bulk import copy_into, escaped
from schools.models import Grade, School
from schools.services import enrollment_from_roster, staff_roster_apply
from schools.signals import evidence_changed

from .models import RosterRun, RosterSource, RunStatus, StudentConnectivity
from .records import EquityRecord, RosterProblem, SchoolRecord, StaffRecord

BATCH = 5000
MAX_ERRORS_KEPT = 1000
PROGRESS_SECONDS = 0.5

STAGE = "rostering_stage"
STAGE_EQUITY = "rostering_stage_equity"
STAGE_IDS = "rostering_stage_ids"
STAGE_STAFF = "rostering_stage_staff"
RESOLVED = "rostering_resolved"
TARGET = "rostering_target"
LEAVING = "rostering_leaving"
STAFF_TARGET = "rostering_staff_target"
STAFF_LEAVING = "rostering_staff_leaving"
TABLES = (
    STAGE, STAGE_EQUITY, STAGE_IDS, STAGE_STAFF, RESOLVED, TARGET, LEAVING, STAFF_TARGET,
    STAFF_LEAVING,
)  # fmt: skip

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
STAFF_COLUMNS = (
    ("seq", "integer NOT NULL"),
    ("ref", "text NOT NULL"),
    ("staff_key", "text NOT NULL"),
    ("school_id", "bigint NULL"),
    ("full_name", "text NOT NULL"),
    ("email", "text NOT NULL"),
    ("position", "text NOT NULL"),
    ("active", "boolean NOT NULL"),
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
    if connection.vendor == "postgresql":
        _sql("RESET work_mem")


def _stage_line(r: tuple) -> str:
    """A ``rostering_stage`` row as a COPY line (a million a run: its types are known)."""
    school = "\\N" if r[3] is None else r[3]
    grade = "\\N" if r[4] is None else r[4]
    touch = "\\N" if r[8] is None else ("t" if r[8] else "f")
    return (
        f"{r[0]}\t{escaped(r[1])}\t{escaped(r[2])}\t{school}\t{grade}\t{'t' if r[5] else 'f'}"
        f"\t{r[6]}\t{escaped(r[7])}\t{touch}\n"
    )


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

    def report_rows(self, select: str, params: Iterable, message) -> int:
        """Report every row of ``select`` (its first column: where) as ``message(row)``,
        fetching only the rows the run keeps (``MAX_ERRORS_KEPT``) and counting the rest in
        SQL, so a source with a million bad records costs no memory. The number found."""
        params = list(params)
        found = _sql(f"SELECT COUNT(*) FROM ({select}) x", params)[0][0]  # noqa: S608
        if not found:
            return 0
        room = max(0, MAX_ERRORS_KEPT - len(self.out.errors))
        rows = _sql(f"{select} LIMIT %s", [*params, room]) if room else []
        for row in rows:
            self.report(row[0], message(row))
        self.out.error_count += found - len(rows)
        return found

    # --- 1. reading ------------------------------------------------------------------

    def read(self) -> None:
        if connection.vendor == "postgresql":
            # The comparison hashes and sorts a million keys: in memory, not in 16 batches
            # on disk (4 MB, the default). Reset with the stage.
            _sql("SET work_mem = '64MB'")
        _create(STAGE, STAGE_COLUMNS)
        _create(STAGE_EQUITY, EQUITY_COLUMNS)
        _create(STAGE_STAFF, STAFF_COLUMNS)
        self.progress("Reading the schools", force=True)
        self._match_schools(self.reader.schools())
        self.progress("Reading students and staff", force=True)
        self._stage_people(self.reader.people())
        if hasattr(self.reader, "equity"):
            self.progress("Reading the digital-equity indicators", force=True)
            self._stage_equity(self.reader.equity())
        if hasattr(self.reader, "student_ids") and not self.out.delta:
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
        """Students to ``rostering_stage``, staff to ``rostering_stage_staff``, by COPY in
        batches: no record is kept once its batch is written."""
        students: list[tuple] = []
        staff: list[tuple] = []
        names = [n for n, _ in STAGE_COLUMNS]
        staff_names = [n for n, _ in STAFF_COLUMNS]
        school_of = self.school_of
        seq = 0
        for rec in records:
            self.out.records_read += 1
            seq += 1
            if isinstance(rec, StaffRecord):
                staff.append(
                    (
                        seq,
                        rec.ref,
                        rec.key,
                        school_of.get(rec.school_key),
                        rec.full_name,
                        rec.email,
                        rec.position,
                        rec.active,
                    )
                )
                if len(staff) >= BATCH:
                    copy_into(STAGE_STAFF, staff_names, staff)
                    staff = []
                continue
            students.append(
                (
                    seq,
                    rec.ref[:200],
                    rec.local_id,
                    school_of.get(rec.school_key),
                    rec.grade,
                    rec.active,
                    rec.leave_reason,
                    rec.entry[:10],
                    rec.needs_touch,
                )
            )
            if len(students) >= BATCH:
                copy_into(STAGE, names, students, _stage_line)
                students = []
                self.progress(f"Reading students and staff: {self.out.records_read:,} records")
        copy_into(STAGE, names, students, _stage_line)
        copy_into(STAGE_STAFF, staff_names, staff)

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
        orphans = self.report_rows(
            f"SELECT ref, local_id FROM {STAGE} s WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {STAGE_IDS} i WHERE i.local_id = s.local_id) ORDER BY seq",
            (),
            lambda row: f"student {row[1]} is not in /students",
        )
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
        if duplicates_are_errors and self._listed_twice():
            self.report_rows(
                f"SELECT ref, local_id FROM {STAGE} s WHERE EXISTS (SELECT 1 FROM {STAGE} e "  # noqa: S608
                "WHERE e.local_id = s.local_id AND e.seq < s.seq) ORDER BY seq",
                (),
                lambda row: f"student {row[1]} is listed again (an earlier row wins)",
            )
        _sql(f"CREATE UNIQUE INDEX {RESOLVED}_key ON {RESOLVED} (local_id)")
        # Autovacuum never analyzes a temporary table: without statistics the planner
        # guesses, and the batches' keyset reads and the leavers' anti-join may sort or scan.
        _sql(f"ANALYZE {RESOLVED}")
        self.out.students_unmatched = _sql(
            f"SELECT COUNT(*) FROM {RESOLVED} WHERE active AND school_id IS NULL"  # noqa: S608
        )[0][0]

    def _listed_twice(self) -> bool:
        """Whether a student is staged more than once: two counts, so the self-join that
        names each repeat runs only when there is one."""
        staged = _sql(f"SELECT COUNT(*) FROM {STAGE}")[0][0]  # noqa: S608
        return staged > _sql(f"SELECT COUNT(*) FROM {RESOLVED}")[0][0]  # noqa: S608

    # --- 3. comparing ----------------------------------------------------------------

    def compare(self) -> None:
        """New, changed, unchanged and leaving students, staff to create, change and mark
        as gone: a few statements joining the staged roster to the district's rows, each
        answer kept in a temporary table that the apply writes from."""
        # The student as the roster leaves them: ``student_target``'s rule (blank keeps,
        # a new student is not flagged and of unknown home internet; whoever is listed is
        # enrolled again), set-based; a grade the school does not teach: "bad".
        _sql(f"DROP TABLE IF EXISTS {TARGET}")
        _sql(
            f"CREATE TEMPORARY TABLE {TARGET} AS "  # noqa: S608
            "SELECT r.local_id, r.ref, st.id AS student_id, r.school_id, r.grade, "
            "COALESCE(r.needs_touch, st.needs_touch, %s) AS needs_touch, "
            "COALESCE(r.home_internet, st.home_internet, %s) AS home_internet, "
            "CASE WHEN r.grade < sc.lowest_grade OR r.grade > sc.highest_grade THEN 'bad' "
            "WHEN st.id IS NULL THEN 'new' "
            "WHEN st.school_id <> r.school_id OR st.grade <> r.grade OR NOT st.active "
            "OR st.needs_touch <> COALESCE(r.needs_touch, st.needs_touch) "
            "OR st.home_internet <> COALESCE(r.home_internet, st.home_internet) "
            "THEN 'changed' ELSE 'same' END AS kind "
            f"FROM {RESOLVED} r JOIN schools_school sc ON sc.id = r.school_id "
            "LEFT JOIN equity_student st ON st.district_id = %s AND st.local_id = r.local_id "
            "WHERE r.active AND r.school_id IS NOT NULL",
            [False, HomeInternet.UNKNOWN.value, self.district_id],
        )
        kinds = dict(_sql(f"SELECT kind, COUNT(*) FROM {TARGET} GROUP BY kind"))  # noqa: S608
        if kinds.get("bad"):
            self._grade_errors()
        self.out.students_created = kinds.get("new", 0)
        self.out.students_updated = kinds.get("changed", 0)
        self.out.students_unchanged = kinds.get("same", 0)
        _sql(f"DROP TABLE IF EXISTS {LEAVING}")
        _sql(f"CREATE TEMPORARY TABLE {LEAVING} AS {self._leavers_sql()}", self._leavers_params())
        self.out.students_left = _sql(f"SELECT COUNT(*) FROM {LEAVING}")[0][0]  # noqa: S608
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

    def _grade_errors(self) -> None:
        """A grade the school does not teach is an error of that record (skipped)."""
        self.report_rows(
            f"SELECT t.ref, t.local_id, t.grade, sc.name FROM {TARGET} t "  # noqa: S608
            "JOIN schools_school sc ON sc.id = t.school_id WHERE t.kind = 'bad' "
            "ORDER BY t.local_id",
            (),
            lambda row: f"student {row[1]}: grade {Grade(row[2]).label} is not taught at {row[3]}",
        )
        _sql(
            f"UPDATE {RESOLVED} SET bad = %s WHERE local_id IN "  # noqa: S608
            f"(SELECT local_id FROM {TARGET} WHERE kind = 'bad')",
            [True],
        )

    def _leavers_sql(self) -> str:
        """Ids and reasons of the district's active students who leave."""
        said = (
            "SELECT st.id, r.leave_reason FROM equity_student st "  # noqa: S608
            f"JOIN {RESOLVED} r ON r.local_id = st.local_id "
            "WHERE st.district_id = %s AND st.active AND NOT r.active"
        )
        if self.out.delta:
            # A delta's leaver takes the student out of the school it names (another
            # enrolment elsewhere may be unchanged, so not in the delta); none named: any.
            return f"{said} AND (r.school_id IS NULL OR r.school_id = st.school_id)"
        if not self.matched_ids:
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
        """Staff are matched per school by e-mail (or, without one, by name); of one person
        listed twice at a school (two assignments) the first listing counts."""
        _sql(f"CREATE INDEX {STAGE_STAFF}_seq ON {STAGE_STAFF} (seq)")
        self.report_rows(
            f"SELECT ref, staff_key FROM {STAGE_STAFF} "  # noqa: S608
            "WHERE school_id IS NOT NULL AND full_name = '' ORDER BY seq",
            (),
            lambda row: f"staff {row[1] or '?'} has no name",
        )
        key = "CASE WHEN {t}.email <> '' THEN {t}.email ELSE 'name:' || LOWER({t}.full_name) END"
        _sql(f"DROP TABLE IF EXISTS {STAFF_TARGET}")
        _sql(
            f"CREATE TEMPORARY TABLE {STAFF_TARGET} AS "  # noqa: S608
            "SELECT s.school_id, s.match_key, s.full_name, s.email, s.position, s.active, "
            "m.id AS member_id, CASE WHEN m.id IS NULL THEN "
            "(CASE WHEN s.active THEN 'new' ELSE 'none' END) "
            "WHEN m.full_name <> s.full_name OR m.email <> s.email OR m.position <> s.position "
            "OR m.active <> s.active THEN 'changed' ELSE 'same' END AS kind FROM ("
            f"SELECT x.*, {key.format(t='x')} AS match_key, ROW_NUMBER() OVER (PARTITION BY "
            f"x.school_id, {key.format(t='x')} ORDER BY x.seq) AS rn FROM {STAGE_STAFF} x "
            "WHERE x.school_id IS NOT NULL AND x.full_name <> '') s "
            f"LEFT JOIN (SELECT y.*, {key.format(t='y')} AS match_key, ROW_NUMBER() OVER ("
            f"PARTITION BY y.school_id, {key.format(t='y')} ORDER BY y.id DESC) AS rn "
            "FROM schools_staffmember y JOIN schools_school ys ON ys.id = y.school_id "
            "WHERE ys.district_id = %s) m "
            "ON m.school_id = s.school_id AND m.match_key = s.match_key AND m.rn = 1 "
            "WHERE s.rn = 1",
            [self.district_id],
        )
        kinds = dict(_sql(f"SELECT kind, COUNT(*) FROM {STAFF_TARGET} GROUP BY kind"))  # noqa: S608
        self.out.staff_created = kinds.get("new", 0)
        self.out.staff_updated = kinds.get("changed", 0)
        _sql(f"DROP TABLE IF EXISTS {STAFF_LEAVING}")
        _sql(f"CREATE TEMPORARY TABLE {STAFF_LEAVING} (id bigint NOT NULL)")
        complete = not self.out.delta or getattr(self.reader, "staff_complete", False)
        if complete and self.matched_ids:
            # Those of the roster's roles at a matched school whom a full read no longer lists.
            schools = ", ".join(["%s"] * len(self.matched_ids))
            roles = ", ".join(["%s"] * len(ROSTER_POSITIONS))
            _sql(
                f"INSERT INTO {STAFF_LEAVING} (id) SELECT m.id FROM schools_staffmember m "  # noqa: S608
                f"WHERE m.school_id IN ({schools}) AND m.active AND m.position IN ({roles}) "
                f"AND NOT EXISTS (SELECT 1 FROM {STAFF_TARGET} t WHERE t.school_id = m.school_id "
                f"AND t.match_key = {key.format(t='m')})",
                [*sorted(self.matched_ids), *sorted(ROSTER_POSITIONS)],
            )
        self.out.staff_left = _sql(f"SELECT COUNT(*) FROM {STAFF_LEAVING}")[0][0]  # noqa: S608

    # --- 4. applying -----------------------------------------------------------------

    @transaction.atomic
    def apply(self, now) -> None:
        RosterRun.unscoped.filter(pk=self.run.pk).update(
            status=RunStatus.APPLYING, phase="Applying in one transaction"
        )
        self._apply_students(now)
        self._apply_leavers(now)
        self._apply_connectivity(now)
        self._apply_staff()
        school_ids = sorted(self.matched_ids)
        enrollment_from_roster(
            school_ids=school_ids, bands=active_students_by_band(school_ids), at=now
        )
        newest = getattr(self.reader, "newest_change_version", None)
        if newest is not None:
            # Ed-Fi: the next nightly run reads the changes after this one's, and only if
            # this transaction commits.
            RosterSource.unscoped.filter(pk=self.run.source_id).update(change_version=newest)
        if self._changed():
            evidence_changed.send(sender=Student, district_ids={self.district_id})
        self.out.applied = True

    def _changed(self) -> bool:
        o = self.out
        return bool(
            o.students_created + o.students_updated + o.students_left + o.connectivity_changed
        )

    def _apply_students(self, now) -> None:
        """New students by one INSERT ... SELECT from the compared stage (the stage itself
        came in by COPY), changed ones by one UPDATE ... FROM; both only rows that differ."""
        if self.out.students_created:
            fields = ", ".join(Student._meta.get_field(f).column for f in STUDENT_COPY_FIELDS[1:])
            _sql(
                f"INSERT INTO equity_student ({fields}) "  # noqa: S608
                "SELECT %s, school_id, local_id, grade, needs_touch, home_internet, '', %s, %s, "
                f"NULL, '', %s, %s FROM {TARGET} WHERE kind = 'new' ORDER BY local_id",
                [self.district_id, False, True, now, now],
            )
        if self.out.students_updated:
            _sql(
                "UPDATE equity_student SET school_id = t.school_id, grade = t.grade, "  # noqa: S608
                "needs_touch = t.needs_touch, home_internet = t.home_internet, active = %s, "
                f"updated_at = %s FROM {TARGET} t "
                "WHERE equity_student.id = t.student_id AND t.kind = 'changed'",
                [True, now],
            )

    def _apply_leavers(self, now) -> None:
        if not self.out.students_left:
            return
        _sql(
            "UPDATE equity_student SET active = %s, left_on = %s, "  # noqa: S608
            f"leave_reason = l.leave_reason, updated_at = %s FROM {LEAVING} l "
            "WHERE equity_student.id = l.id",
            [False, self.today, now],
        )

    def _apply_connectivity(self, now) -> None:
        if not self.out.connectivity_changed:
            return
        table = StudentConnectivity._meta.db_table
        fields = ", ".join(CONNECTIVITY_FIELDS)
        sets = ", ".join(f"{f} = excluded.{f}" for f in CONNECTIVITY_FIELDS)
        _sql(
            f"INSERT INTO {table} (student_id, {fields}, updated_at) "  # noqa: S608
            f"SELECT x.*, %s FROM ({self._connectivity_sql()}) x WHERE TRUE "
            f"ON CONFLICT (student_id) DO UPDATE SET {sets}, updated_at = excluded.updated_at",
            [now, self.district_id],
        )

    def _apply_staff(self) -> None:
        """Through the staff roster's service; only the rows that differ are read back
        (a handful a night, the whole staff only on a district's first run)."""
        o = self.out
        if not (o.staff_created or o.staff_updated or o.staff_left):
            return
        names = ("full_name", "email", "position", "active")
        rows = _sql(
            f"SELECT kind, member_id, school_id, {', '.join(names)} FROM {STAFF_TARGET} "  # noqa: S608
            "WHERE kind IN ('new', 'changed') ORDER BY school_id, match_key"
        )
        create = [
            {"school_id": school_id, **dict(zip(names, rest, strict=True))}
            for kind, _pk, school_id, *rest in rows
            if kind == "new"
        ]
        update = [
            (pk, dict(zip(names, rest, strict=True)))
            for kind, pk, _school_id, *rest in rows
            if kind == "changed"
        ]
        # The leavers stay in the database: a subquery, not a list of ids in Python (every
        # member a roster leaves out, thousands on a first run or where the SIS lists only
        # teachers, made a statement of as many parameters: the run's memory peak).
        leaving = []
        if o.staff_left:
            leaving = RawSQL(f"SELECT id FROM {STAFF_LEAVING}", [])  # noqa: S608,S611 - a fixed name
        staff_roster_apply(
            district_id=self.district_id, create=create, update=update, leaving=leaving
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
