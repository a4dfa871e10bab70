"""Device import: Pillarwise's importer against PostgreSQL ``COPY`` of the same CSV (the floor)
and against a naive row-by-row ORM loop.

    python -m bench.imports --size 1000      # DATABASE_URL: a migrated PostgreSQL database

Everything happens in a district of its own, "Import Bench" (four schools, four catalog
models), so the scale district the other parts measure is untouched; it is deleted with
everything in it at the end, so runs repeat. The file is the importer's native format with
every column filled the way a district's spreadsheet fills them. Of its rows, 90 % are new
devices, 5 % existing devices that moved to another school (an update and a "Moved"
event each) and 5 % existing devices already up to date.

- **importer**: ``import_devices`` on the file as the import task runs it (every check,
  one transaction for the writes, events), timed from opening the file to the commit.
- **COPY**: ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` of the same file into a bare
  table with the file's columns and matching types (no index, no key), committed.
  Its after-commit message (the district's readiness run) is published to kombu's
  in-memory broker, as production publishes it to Redis, not run in this process
  (``tasks_published``).
- **naive**: per row, look the school and the model up, ``Device.objects.create`` and a
  ``DeviceEvent``, on the first ``NAIVE_ROWS`` new rows (one transaction), as rows/s.
- **memory**: the importer in a fresh process on a file a tenth of the size and on the
  full one: the peak of Python's allocations (tracemalloc) and the peak resident size
  (VmHWM in /proc) above the process's size before the import.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import random
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from ._django import section_main
from .report import table, verdict

GOAL = 1.5  # the importer may take at most 1.5 times a COPY of its rows into our tables
NAIVE_ROWS = 2_000
DISTRICT = "Import Bench"
SLUG = "import-bench"
SCHOOLS = [
    ("IB01", "Juniper Elementary", -1, 5),
    ("IB02", "Aspen Elementary", -1, 5),
    ("IB03", "Sycamore Middle", 6, 8),
    ("IB04", "Hemlock High", 9, 12),
]
# (maker, model, kind, touchscreen, price, auto-update expiration month)
MODELS = [
    ("Acer", "Chromebook Spin 512", "chromebook", True, "289.00", "2029-06"),
    ("Lenovo", "100e Chromebook Gen 4", "chromebook", False, "249.00", "2032-06"),
    ("Dell", "Latitude 3140", "laptop", False, "649.00", ""),
    ("Apple", "iPad (10th generation)", "tablet", True, "329.00", ""),
]
HEADER = [
    "asset_tag",
    "serial_number",
    "maker",
    "model",
    "kind",
    "touchscreen",
    "school",
    "status",
    "purchase_date",
    "funding_source",
    "unit_price",
    "auto_update_expiration",
    "notes",
]
FLOOR_TABLE = "import_bench_floor"
FLOOR_COLUMNS = """
    asset_tag varchar(64), serial_number varchar(100), maker varchar(100),
    model varchar(200), kind varchar(20), touchscreen boolean, school varchar(200),
    status varchar(20), purchase_date date, funding_source varchar(40),
    unit_price numeric(9, 2), auto_update_expiration varchar(10), notes text
"""
STATUSES = ["in_stock"] * 17 + ["in_repair", "lost", "retired"]
FUNDING = ["Title I", "general_fund", "E-Rate", "title_iv_a", "grant", "donation", ""]
NOTES = ["", "", "", "", "", "Cart 3", "Library loaner", "Replaced screen 2024-02", "Spare"]
NEW_SHARE, MOVED_SHARE = 0.90, 0.05  # the rest: existing devices already up to date


def rows_for(size: int) -> int:
    """Rows of the file: 20,000 up to 100,000 students, then one per five students."""
    return min(200_000, max(20_000, size // 5))


def _serial(i: int) -> str:
    # 7,919 is prime to 10**7, so the serials of 10 million rows are all different.
    return f"5CD{(i * 7919) % 10**7:07d}{chr(65 + i % 26)}"


def _kind_of_row(i: int, n: int) -> str:
    """new, moved or same: the last 10 % of the rows are existing devices."""
    if i < n * NEW_SHARE:
        return "new"
    return "moved" if i < n * (NEW_SHARE + MOVED_SHARE) else "same"


def _home_school(i: int) -> str:
    return SCHOOLS[i % len(SCHOOLS)][0]


def write_file(path: Path, n: int, seed: int = 8) -> None:
    """The device list: every column filled as a district's spreadsheet fills them."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(n):
            maker, name, kind, touch, price, aue = MODELS[i % len(MODELS)]
            school = _home_school(i)
            if _kind_of_row(i, n) == "moved":
                school = SCHOOLS[(i + 1) % len(SCHOOLS)][0]
            bought = date(2020 + rng.randrange(6), rng.randrange(1, 13), rng.randrange(1, 29))
            same = _kind_of_row(i, n) == "same"
            writer.writerow(
                [
                    f"IB-{i:07d}",
                    _serial(i),
                    maker,
                    name,
                    kind,
                    "yes" if touch else "no",
                    school,
                    "in_stock" if same else rng.choice(STATUSES),
                    "" if same else (f"{bought.month}/{bought.day}/{bought.year}"),
                    "" if same else rng.choice(FUNDING),
                    price,
                    aue,
                    "" if same else rng.choice(NOTES),
                ]
            )


# --- the Import Bench district --------------------------------------------------------------


def _district():
    from equity.inventory.models import DeviceModel
    from schools.models import District, School

    district, _ = District.objects.get_or_create(slug=SLUG, defaults={"name": DISTRICT})
    for code, name, low, high in SCHOOLS:
        School.objects.get_or_create(
            district=district,
            code=code,
            defaults={"name": name, "lowest_grade": low, "highest_grade": high},
        )
    for maker, name, kind, touch, price, _aue in MODELS:
        DeviceModel.objects.get_or_create(
            district=district,
            maker=maker,
            name=name,
            defaults={"kind": kind, "touchscreen": touch, "unit_price": price},
        )
    return district


def _clear(district) -> None:
    """Delete the bench district's devices and their history (plain SQL: history is
    never deleted through the ORM)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM equity_deviceevent WHERE device_id IN "
            "(SELECT id FROM equity_device WHERE district_id = %s)",
            [district.pk],
        )
        cursor.execute("DELETE FROM equity_device WHERE district_id = %s", [district.pk])


def _remove(district) -> None:
    """The bench district and everything in it, so the seeded database is as it was."""
    from django.db import transaction

    from schools.models import School

    _clear(district)
    with transaction.atomic():
        School.objects.filter(district=district).delete()  # and their readiness snapshots
        district.delete()  # its catalog and readiness runs go with it


def _existing_devices(district, n: int) -> int:
    """The devices the file's last 10 % of rows update (moved) or match (same)."""
    from django.db import transaction
    from django.utils import timezone

    from equity.inventory.models import Device, DeviceModel
    from schools.bulk import copy_rows
    from schools.models import School

    schools = dict(School.objects.filter(district=district).values_list("code", "pk"))
    models = {
        (maker, name): pk
        for pk, maker, name in DeviceModel.objects.filter(district=district).values_list(
            "pk", "maker", "name"
        )
    }
    now = timezone.now()
    fields = [
        "district", "school", "model", "maker", "asset_tag", "serial_number", "status",
        "purchase_date", "funding_source", "notes", "created_at", "updated_at",
    ]  # fmt: skip
    rows = []
    for i in range(int(n * NEW_SHARE), n):
        maker, name, *_ = MODELS[i % len(MODELS)]
        rows.append(
            (
                district.pk, schools[_home_school(i)], models[(maker, name)], maker,
                f"IB-{i:07d}", _serial(i), "in_stock", None, "", "", now, now,
            )
        )  # fmt: skip
    with transaction.atomic():
        return copy_rows(Device, fields, rows)


def _analyze() -> None:
    """VACUUM (ANALYZE) both tables: the rows a previous run or ``_clear`` deleted leave dead
    entries in every index, which a unique index must look through on each insert of the
    same keys; the importer and the COPY into our tables both start from a clean table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) equity_device")
        cursor.execute("VACUUM (ANALYZE) equity_deviceevent")


# --- the three ways in ---------------------------------------------------------------------


def time_copy(path: Path) -> float:
    """The floor: COPY of the file into a bare table of matching types, committed."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cursor.execute(f"CREATE TABLE {FLOOR_TABLE} ({FLOOR_COLUMNS})")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor, open(path, encoding="utf-8") as f:
        cursor.cursor.copy_expert(f"COPY {FLOOR_TABLE} FROM STDIN (FORMAT csv, HEADER)", f)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor, open(path, encoding="utf-8") as f:
        cursor.execute(f"SELECT count(*) FROM {FLOOR_TABLE}")  # noqa: S608 - a constant
        copied = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {FLOOR_TABLE}")
        if copied != sum(1 for _ in f) - 1:
            raise RuntimeError("COPY did not read every row of the file")
    return seconds


def time_schema_floor(district) -> float:
    """COPY of the very rows the importer wrote (devices and events) into Pillarwise's own
    tables, with their indexes and foreign keys, committed: what the database itself needs
    to store the import, with no Python in the way."""
    import io

    from django.db import connection, transaction

    dumps = {}
    with connection.cursor() as cursor:
        for table, where in (
            ("equity_device", "district_id = %s"),
            (
                "equity_deviceevent",
                "device_id IN (SELECT id FROM equity_device WHERE district_id = %s)",
            ),
        ):
            cursor.execute(
                "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [table],
            )
            columns = cursor.fetchone()[0]
            buffer = io.StringIO()
            query = cursor.mogrify(
                f"COPY (SELECT {columns} FROM {table} WHERE {where}) TO STDOUT",  # noqa: S608
                [district.pk],
            ).decode()
            cursor.cursor.copy_expert(query, buffer)
            dumps[table] = (columns, buffer)
    _clear(district)
    _analyze()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, (columns, buffer) in dumps.items():
            buffer.seek(0)
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
        copied = time.perf_counter()
    finished = time.perf_counter()
    # The commit checks the deferred foreign keys, row by row.
    return finished - started, finished - copied


@contextmanager
def tasks_published():
    """Inside the block, tasks are published to the broker as in production, not run here.

    The bench's settings have no Redis (REDIS_URL=memory://), under which Celery runs every
    task eagerly, in this process: the import's after-commit message (the district's
    readiness run, debounced by two minutes, which a worker runs) would then be the whole
    readiness computation inside the timed import. Here the message goes to kombu's
    in-memory broker instead, as production sends it to Redis; nothing consumes it, and it
    is purged afterwards. Yields a list that then holds the names of the tasks published."""
    from celery import current_app
    from kombu.transport import memory

    conf = current_app.conf
    if not conf.broker_url.startswith("memory://"):
        yield []  # a real broker: tasks are published already
        return

    def waiting() -> dict:
        return {name: list(q.queue) for name, q in memory.Channel.queues.items()}

    before = waiting()
    eager, conf.task_always_eager = conf.task_always_eager, False
    published: list[str] = []
    try:
        yield published
    finally:
        conf.task_always_eager = eager
        for name, messages in waiting().items():
            for message in messages[len(before.get(name, [])) :]:
                published.append(message["headers"]["task"])
            memory.Channel.queues[name].queue.clear()


def run_importer(path: Path, district, phases: dict | None = None, published: list | None = None):
    """``import_devices`` as the import task calls it: the district, its default school,
    the schools the person may import into, the person; what it queues is published, not
    run (``tasks_published``), and its names are added to ``published``."""
    from equity.imports.devices import import_devices
    from schools.models import School

    schools = list(School.objects.filter(district=district).order_by("code"))
    marks = phases if phases is not None else {}
    with open(path, "rb") as handle, tasks_published() as sent:
        result = import_devices(
            handle,
            district=district,
            default_school=schools[0],
            allowed_school_ids={s.pk for s in schools},
            user=None,
            on_phase=lambda name: marks.__setitem__(name, time.perf_counter()),
        )
    if published is not None:
        published.extend(sent)
    return result


def time_naive(path: Path, district, limit: int) -> tuple[int, float]:
    """Row by row through the ORM: two lookups, the device and its event, per row."""
    from django.db import transaction
    from django.utils import timezone

    from equity.inventory.models import Device, DeviceEvent, DeviceModel, EventKind
    from schools.models import School
    from schools.scoping import outside_scope

    done = 0
    started = time.perf_counter()
    with outside_scope(), transaction.atomic(), open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if done >= limit:
                break
            school = School.objects.get(district=district, code=row["school"])
            model = DeviceModel.objects.get(
                district=district, maker=row["maker"], name=row["model"]
            )
            device = Device.objects.create(
                district=district,
                school=school,
                model=model,
                asset_tag=row["asset_tag"],
                serial_number=row["serial_number"],
                status=row["status"] or "in_stock",
                notes=row["notes"],
            )
            DeviceEvent.objects.create(
                device=device, kind=EventKind.CREATED, at=timezone.now(), school=school
            )
            done += 1
    return done, time.perf_counter() - started


def _status_kib(field: str) -> int:
    """VmRSS (resident now) or VmHWM (its peak) of this process, from /proc. Unlike
    ``ru_maxrss``, which Linux carries over from the parent through fork and exec, the peak
    is this process's own."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _memory_child(path: str, district_id: int, queue) -> None:
    """In a fresh process: import the file, report peak allocations and resident size."""
    import tracemalloc

    from ._django import setup

    setup()
    from schools.models import District
    from schools.scoping import outside_scope

    with outside_scope():
        district = District.objects.get(pk=district_id)
        before = _status_kib("VmRSS")
        tracemalloc.start()
        try:
            result = run_importer(Path(path), district)
            _current, traced = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    peak = _status_kib("VmHWM")
    queue.put(
        {
            "ok": result.ok,
            "rows": result.rows,
            "tracemalloc_peak_mib": traced / 2**20,
            "rss_growth_mib": (peak - before) / 1024,
            "peak_rss_mib": peak / 1024,
        }
    )


def memory(path: Path, district) -> dict:
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_memory_child, args=(str(path), district.pk, queue))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"the memory run failed (exit code {child.exitcode})")
    figures = queue.get(timeout=10)
    if not figures["ok"]:
        raise RuntimeError("the import failed in the memory run")
    return figures


# --- the part --------------------------------------------------------------------------------


def measure(size: int) -> dict:
    from schools.scoping import outside_scope

    n = rows_for(size)
    with outside_scope(), tempfile.TemporaryDirectory() as tmp:
        full, small = Path(tmp) / "devices.csv", Path(tmp) / "devices-small.csv"
        write_file(full, n)
        write_file(small, n // 10)
        district = _district()
        _clear(district)
        figures: dict = {"rows": n, "file_mib": os.path.getsize(full) / 2**20}

        figures["copy_seconds"] = time_copy(full)

        _existing_devices(district, n)
        _analyze()
        phases: dict = {}
        published: list = []
        started = time.perf_counter()
        result = run_importer(full, district, phases, published)
        finished = time.perf_counter()
        if not result.ok:
            raise RuntimeError("the bench file did not import: " + str(result.errors[:5]))
        figures.update(
            importer_seconds=finished - started,
            checking_seconds=phases["writing"] - started,
            writing_seconds=finished - phases["writing"],
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            tasks_published=published,
        )
        figures["schema_copy_seconds"], figures["schema_commit_seconds"] = time_schema_floor(
            district
        )

        _clear(district)
        naive_rows, naive_seconds = time_naive(full, district, min(NAIVE_ROWS, n))
        figures.update(naive_rows=naive_rows, naive_seconds=naive_seconds)

        for label, path, rows in (("small", small, n // 10), ("large", full, n)):
            _clear(district)
            _existing_devices(district, rows)
            figures[f"memory_{label}"] = {"rows": rows, **memory(path, district)}
        _remove(district)
        # The parts measured after this one (pages at this size) should not share the
        # machine with the autovacuum of the rows just deleted: vacuumed here, untimed.
        _analyze()
    return figures


def render(results: dict[int, dict]) -> str:
    rows, memory_rows = [], []
    for size, r in sorted(results.items()):
        n = r["rows"]
        importer_rate = n / r["importer_seconds"]
        naive_rate = r["naive_rows"] / r["naive_seconds"]
        schema = r["schema_copy_seconds"]
        ratio = r["importer_seconds"] / schema
        rows.append(
            [
                size,
                n,
                f"{r['copy_seconds']:.2f} s ({n / r['copy_seconds']:,.0f} rows/s)",
                f"{schema:.2f} s, {r['schema_commit_seconds']:.1f} of it the commit",
                f"{r['importer_seconds']:.2f} s ({importer_rate:,.0f} rows/s; "
                f"{r['checking_seconds']:.1f} checking, {r['writing_seconds']:.1f} writing)",
                f"{ratio:.2f}×",
                verdict(ratio <= GOAL),
                f"{r['importer_seconds'] / r['copy_seconds']:.0f}×",
                f"{importer_rate / naive_rate:.0f}×",
            ]
        )
        small, large = r["memory_small"], r["memory_large"]
        growth = large["rss_growth_mib"] / max(small["rss_growth_mib"], 0.01)
        memory_rows.append(
            [
                size,
                f"{small['rows']:,} → {large['rows']:,}",
                f"{small['tracemalloc_peak_mib']:.1f} → {large['tracemalloc_peak_mib']:.1f} MiB",
                f"{small['rss_growth_mib']:.1f} → {large['rss_growth_mib']:.1f} MiB",
                f"{small['peak_rss_mib']:.0f} → {large['peak_rss_mib']:.0f} MiB",
                f"{growth:.2f}×",
            ]
        )
    return "\n".join(
        [
            "## Device import",
            "",
            "One CSV in the importer's own format (every column filled; 90 % new devices, 5 % "
            "existing devices moved to another school, 5 % already up to date), in a district "
            'of its own. The floor is "COPY into our tables": the very rows the importer '
            "wrote (devices and their events) copied into Pillarwise's tables, with their "
            "indexes (docs/imports.md lists each and what needs it) and deferred foreign keys, "
            "committed: what PostgreSQL itself needs to store the import. Both start from "
            f"freshly vacuumed tables. Goal: the importer (every check, one transaction, "
            f"history events) within {GOAL:g}× the floor. The readiness run an import "
            "queues is published to the broker, as production publishes it to Redis for a "
            "worker to run two minutes later, and not run inside the timed import (the bench "
            "has no Redis, under which Celery would run it in-process). Also shown: a bare "
            "`COPY` of the file into a table without index or key, and the naive loop (per "
            "row: two lookups, `create` of the device and its event, on the first "
            f"{NAIVE_ROWS:,} rows).",
            "",
            table(
                [
                    "students",
                    "rows",
                    "bare COPY",
                    "COPY into our tables (floor)",
                    "importer",
                    "importer / floor",
                    f"goal ≤ {GOAL:g}×",
                    "importer / bare COPY",
                    "importer / naive",
                ],
                rows,
            ),
            "",
            "Peak memory of the importer in a fresh process, on a file a tenth of the size and "
            "on the full one. On PostgreSQL the parsed rows go to a temporary table batch by "
            "batch and every check that needs the whole file is a query, so nothing grows with "
            "the file in Python:",
            "",
            table(
                [
                    "students",
                    "rows",
                    "Python peak (tracemalloc)",
                    "resident growth (VmHWM − start)",
                    "peak resident (VmHWM)",
                    "10× rows → growth",
                ],
                memory_rows,
            ),
        ]
    )


if __name__ == "__main__":
    section_main(measure)
