"""Roster sync: ``sync_roster``'s run over a OneRoster bundle of the whole seeded district,
against PostgreSQL ``COPY`` of the same rows (the floor), and its memory as the roster grows.

    python -m bench.rostering --size 1000      # DATABASE_URL: a seeded PostgreSQL database

The bundle is written from the seeded district itself (``users.csv`` streamed out of the
database with ``COPY ... TO STDOUT``, names and e-mails included as a SIS sends them): every
active student, 2 % of them a grade up, 1 % left out (they leave) and 1 % new students,
plus the staff. The run reads it, stages the keys, compares and applies everything in one
transaction, which the bench then rolls back, so the seeded district is as it was and the
part repeats.

- **sync**: the run from opening the bundle to the end of the apply's transaction (before
  the bench's rollback), with its reading, comparing and applying phases.
- **COPY**: ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` of the same users.csv into a bare
  table with its columns (no index, no key).
- **memory**: the run in a fresh process on the bundle of a tenth of the schools and on
  the whole one: peak Python allocations (tracemalloc) and resident growth (VmHWM).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
import zipfile
from pathlib import Path

from ._django import section_main
from .report import table, verdict

# ruff: noqa: S608 - the SQL is built from the bench's own ids and fixed text

GOAL = 5.0  # the sync (read, compare, apply, one transaction) at most 5× a bare COPY
FLOOR_TABLE = "roster_bench_floor"
USERS_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
    "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
    "password\n"
)


def _grade(expr: str) -> str:
    """A grade number as OneRoster writes it (PK, KG, 01–12)."""
    return (
        f"CASE WHEN {expr} < 0 THEN 'PK' WHEN {expr} = 0 THEN 'KG' "
        f"ELSE lpad(({expr})::text, 2, '0') END"
    )


class _Rollback(Exception):
    pass


def _district():
    from schools.models import District

    return District.objects.exclude(slug__in=["import-bench"]).order_by("pk").first()


def _users_sql(district_id: int, school_ids: list[int] | None) -> str:
    only = f"AND st.school_id IN ({','.join(map(str, school_ids))})" if school_ids else ""
    # 2 % a grade up (within the school's span).
    grade = _grade("LEAST(s.highest_grade, st.grade + CASE WHEN st.id % 50 = 0 THEN 1 ELSE 0 END)")
    students = (
        "SELECT st.local_id, 'active', '2026-08-01', 'true', 'org-' || st.school_id, 'student', "
        "'u' || st.id, '', 'Given' || st.id, 'Family' || st.id, '', st.local_id, "
        "'s' || st.id || '@kids.example.org', '', '555-0100', '', "
        f"{grade}, '' FROM equity_student st JOIN schools_school s ON s.id = st.school_id "
        f"WHERE st.district_id = {district_id} AND st.active AND st.id % 100 <> 7 {only}"
    )
    new = (
        "SELECT 'NEW-' || st.id, 'active', '', 'true', 'org-' || st.school_id, 'student', '', "
        "'', 'Given', 'Family', '', 'NEW-' || st.id, '', '', '', '', "
        f"{_grade('st.grade')}, '' FROM equity_student st "
        f"WHERE st.district_id = {district_id} AND st.active AND st.id % 100 = 3 {only}"
    )
    only_staff = only.replace("st.school_id", "sm.school_id")
    staff = (
        "SELECT 'staff-' || sm.id, 'active', '', 'true', 'org-' || sm.school_id, "
        "CASE WHEN sm.position = 'administrator' THEN 'administrator' ELSE 'teacher' END, "
        "'', '', sm.full_name, '', '', '', sm.email, '', '', '', '', '' "
        "FROM schools_staffmember sm JOIN schools_school s ON s.id = sm.school_id "
        f"WHERE s.district_id = {district_id} AND sm.active "
        "AND sm.position IN ('teacher', 'administrator') "
        f"{only_staff}"
    )
    return f"{students} UNION ALL {new} UNION ALL {staff}"


def write_bundle(path: Path, district_id: int, school_ids: list[int] | None) -> int:
    """The bundle of the district (or of ``school_ids``), streamed; its users.csv rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, code, name FROM schools_school WHERE district_id = %s"
            + (" AND id = ANY(%s)" if school_ids else ""),
            [district_id, school_ids] if school_ids else [district_id],
        )
        schools = cursor.fetchall()
    orgs = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n" + "".join(
        f'org-{pk},active,,"{name}",school,{code},\n' for pk, code, name in schools
    )
    manifest = (
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
        "file.orgs,bulk\nfile.users,bulk\nfile.enrollments,absent\nfile.academicSessions,absent\n"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("manifest.csv", manifest)
        z.writestr("orgs.csv", orgs)
        with z.open("users.csv", "w") as out:
            out.write(USERS_HEADER.encode())
            counter = _Counting(out)
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(
                    f"COPY ({_users_sql(district_id, school_ids)}) TO STDOUT WITH (FORMAT csv)",
                    counter,
                )
    return counter.lines


class _Counting:
    def __init__(self, out):
        self.out, self.lines = out, 0

    def write(self, data):
        data = data.encode() if isinstance(data, str) else data
        self.lines += data.count(b"\n")
        return self.out.write(data)


def time_copy(path: Path) -> float:
    """COPY of the same users.csv into a bare table, committed (the floor)."""
    from django.db import connection, transaction

    columns = ", ".join(f"{c} text" for c in USERS_HEADER.strip().split(","))
    started = time.perf_counter()
    with (
        zipfile.ZipFile(path) as z,
        z.open("users.csv") as raw,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cursor.execute(f"CREATE TABLE {FLOOR_TABLE} ({columns})")
        cursor.cursor.copy_expert(
            f"COPY {FLOOR_TABLE} FROM STDIN WITH (FORMAT csv, HEADER)", raw, size=1 << 16
        )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {FLOOR_TABLE}")
    return seconds


def run_sync(path: Path, district) -> tuple[object, float, dict]:
    """The applying run, timed to the end of its transaction, then rolled back."""
    from django.db import transaction

    from rostering import services, sync
    from rostering.models import RosterSource, RunTrigger

    phases: dict = {}
    compare = sync.Sync.compare
    apply = sync.Sync.apply

    def timed_compare(self):
        phases["compare"] = time.perf_counter()
        compare(self)

    def timed_apply(self, now):
        phases["apply"] = time.perf_counter()
        apply(self, now)
        phases["applied"] = time.perf_counter()

    sync.Sync.compare, sync.Sync.apply = timed_compare, timed_apply
    out = None
    try:
        with transaction.atomic():
            source = RosterSource.unscoped.create(
                district=district, kind="oneroster-csv", student_key="identifier",
                error_threshold=10**6,
            )  # fmt: skip
            run = services.run_create(source=source, trigger=RunTrigger.COMMAND, apply=True)
            started = time.perf_counter()
            out = services.run_execute(run.pk, bundle=str(path))
            phases["started"] = started
            raise _Rollback
    except _Rollback:
        pass
    finally:
        sync.Sync.compare, sync.Sync.apply = compare, apply
    return out, phases


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _memory_child(path: str, queue) -> None:
    import tracemalloc

    from ._django import setup

    setup()
    from schools.scoping import outside_scope

    with outside_scope():
        district = _district()
        before = _status_kib("VmRSS")
        tracemalloc.start()
        try:
            out, _phases = run_sync(Path(path), district)
            _current, traced = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    peak = _status_kib("VmHWM")
    queue.put(
        {
            "applied": bool(out and out.applied),
            "tracemalloc_peak_mib": traced / 2**20,
            "rss_growth_mib": (peak - before) / 1024,
        }
    )


def memory(path: Path) -> dict:
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_memory_child, args=(str(path), queue))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"the memory run failed (exit code {child.exitcode})")
    return queue.get(timeout=10)


def measure(size: int) -> dict:
    from schools.models import School
    from schools.scoping import outside_scope

    with outside_scope(), tempfile.TemporaryDirectory() as tmp:
        district = _district()
        full, small = Path(tmp) / "roster.zip", Path(tmp) / "roster-small.zip"
        rows = write_bundle(full, district.pk, None)
        ids = list(
            School.objects.filter(district=district).order_by("pk").values_list("pk", flat=True)
        )
        small_rows = write_bundle(small, district.pk, ids[: max(1, len(ids) // 10)])
        figures: dict = {"rows": rows, "bundle_mib": os.path.getsize(full) / 2**20}
        figures["copy_seconds"] = time_copy(full)
        out, phases = run_sync(full, district)
        if out is None or not out.applied:
            raise RuntimeError(f"the bench roster did not apply: {out and out.all_errors()[:5]}")
        figures.update(
            sync_seconds=phases["applied"] - phases["started"],
            reading_seconds=phases["compare"] - phases["started"],
            comparing_seconds=phases["apply"] - phases["compare"],
            applying_seconds=phases["applied"] - phases["apply"],
            created=out.students_created,
            updated=out.students_updated,
            unchanged=out.students_unchanged,
            left=out.students_left,
        )
        for label, path, n in (("small", small, small_rows), ("large", full, rows)):
            figures[f"memory_{label}"] = {"rows": n, **memory(path)}
    return figures


def render(results: dict[int, dict]) -> str:
    rows, memory_rows = [], []
    for size, r in sorted(results.items()):
        ratio = r["sync_seconds"] / r["copy_seconds"]
        rows.append(
            [
                size,
                r["rows"],
                f"{r['copy_seconds']:.2f} s",
                f"{r['sync_seconds']:.2f} s ({r['reading_seconds']:.1f} reading, "
                f"{r['comparing_seconds']:.1f} comparing, {r['applying_seconds']:.1f} applying)",
                f"{r['created']:,} new, {r['updated']:,} changed, {r['left']:,} left",
                f"{ratio:.1f}×",
                verdict(ratio <= GOAL),
            ]
        )
        small, large = r["memory_small"], r["memory_large"]
        growth = large["tracemalloc_peak_mib"] / max(small["tracemalloc_peak_mib"], 0.01)
        memory_rows.append(
            [
                size,
                f"{small['rows']:,} → {large['rows']:,}",
                f"{small['tracemalloc_peak_mib']:.1f} → {large['tracemalloc_peak_mib']:.1f} MiB",
                f"{small['rss_growth_mib']:.1f} → {large['rss_growth_mib']:.1f} MiB",
                f"{growth:.1f}×",
            ]
        )
    return "\n".join(
        [
            "## Roster sync",
            "",
            "A OneRoster CSV bundle of the whole seeded district (2 % of students a grade up, "
            "1 % gone, 1 % new, the staff), synced by `sync_roster --apply`'s run: read and "
            "staged by COPY, compared and applied set-based in one transaction (rolled back by "
            f"the bench afterwards). Goal: at most {GOAL:g}× PostgreSQL `COPY` of the same "
            "users.csv into a bare table.",
            "",
            table(
                ["students", "users.csv rows", "COPY", "sync", "found", "sync / COPY", "goal"],
                rows,
            ),
            "",
            "Peak memory of the run in a fresh process, on the bundle of a tenth of the schools "
            "and on the whole district (students and staff are staged in temporary tables; "
            "no record outlives its batch of 5,000):",
            "",
            table(
                [
                    "students",
                    "rows",
                    "Python peak (tracemalloc)",
                    "resident growth (VmHWM)",
                    "10× rows →",
                ],
                memory_rows,
            ),  # fmt: skip
        ]
    )


if __name__ == "__main__":
    section_main(measure)
