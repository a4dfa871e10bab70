"""Many devices at once on PostgreSQL, checked and written inside the database.

The device importer parses each row in Python (that is where a cell's message comes from)
and hands the parsed rows here, batch by batch; they go to a temporary table through COPY
and are not kept in Python. What needs the whole file or the district's inventory is then
asked of the database in one statement each, instead of per batch with Python sets and
dicts (memory flat as the file grows):

- ``check()``: duplicates inside the file (the earlier row, by window functions), serials
  held by another device of the district, unknown-school new devices, devices of schools
  the person may not import into, moves of checked-out devices, and the counts the result
  shows (created, updated, unchanged, statuses kept). Error rows come back as plain values;
  the importer words them as the row-by-row path does.
- ``write_changes()`` and ``write_new(part)``: inside the import's transaction, one
  ``UPDATE ... FROM`` of every changed device (with its "Moved" and arrival events
  first), after which the staged rows of existing devices are dropped; then per part of
  the rows the new devices go out of the database as ``COPY`` text and back into
  ``equity_device`` with ``COPY``, as the floor writes them, their "Added to inventory"
  events made from the same lines. The counts must match what ``check()`` found, or the
  inventory changed in between and the caller rolls everything back.

What a row becomes is ``bulk.py``'s rules, written as SQL here: ``device_changes`` (blank
cells keep, ``CHANGED``), a move's two events (``services.devices_move``), a new device in
stock unless told otherwise, a checked-out device not moved (``device_move_refusal``, whose
words the importer still uses). ``tests/equity/imports/test_staged.py`` holds the two paths
to the same results. SQLite has no such path: the importer runs its row-by-row one there.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection, transaction

from .fastwrite import day, text
from .models import DeviceStatus, EventKind

ROWS = "equity_device_import_rows"
MODELS = "equity_device_import_models"

ROW_COLUMNS = (
    ("line", "integer NOT NULL"),
    ("batch", "integer NOT NULL"),
    ("part", "integer NOT NULL"),
    ("asset_tag", "varchar(64) NOT NULL"),
    ("serial", "varchar(100) NOT NULL"),
    ("maker_key", "text NOT NULL"),  # the catalog maker in lower case
    ("model_ref", "integer NOT NULL"),
    ("school_id", "bigint NULL"),  # the school the row names (None: not named)
    ("miss_column", "text NULL"),  # a place that named no school: its column and value
    ("miss_value", "text NULL"),
    ("status", "varchar(20) NULL"),
    ("purchase_date", "date NULL"),
    ("funding_source", "varchar(20) NULL"),
    ("notes", "text NULL"),
    ("aue", "date NULL"),
)


NULL = "\\N"


# device_changes in SQL: s is the staged row, d the device, m the row's catalog entry
# (m.model_id NULL: an entry the import has not created yet, which is a change).
CHANGED = """(
    m.model_id IS NULL OR m.model_id <> d.model_id
    OR s.serial <> d.serial_number
    OR (s.school_id IS NOT NULL AND s.school_id <> d.school_id)
    OR (s.purchase_date IS NOT NULL AND s.purchase_date IS DISTINCT FROM d.purchase_date)
    OR (s.funding_source IS NOT NULL AND s.funding_source <> d.funding_source)
    OR (s.notes IS NOT NULL AND s.notes <> d.notes)
    OR (s.aue IS NOT NULL AND s.aue IS DISTINCT FROM d.auto_update_expiration)
)"""
MOVED = "(s.school_id IS NOT NULL AND s.school_id <> d.school_id)"

# Outcomes of check(); the first two are found among the file's rows, the rest against the
# inventory, for rows that are unique in the file.
TAG_TWICE, SERIAL_TWICE = "tag_twice", "serial_twice"
SERIAL_TAKEN, NO_SCHOOL, TAG_TAKEN, REFUSED = "serial_taken", "no_school", "tag_taken", "refused"
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
ERRORS = (TAG_TWICE, SERIAL_TWICE, SERIAL_TAKEN, NO_SCHOOL, TAG_TAKEN, REFUSED)
IN_FILE = (TAG_TWICE, SERIAL_TWICE)


class Problem(NamedTuple):
    outcome: str
    line: int
    batch: int
    asset_tag: str
    serial: str
    earlier: int | None  # the earlier row of a duplicate
    miss_column: str | None
    miss_value: str | None
    status: str | None  # the device's status (a refused move)


@dataclass
class Verdict:
    counts: dict[str, int] = field(default_factory=dict)
    status_kept: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first ``limit``, in order

    @property
    def errors(self) -> int:
        return sum(self.counts.get(o, 0) for o in ERRORS)


class DevicesStaged:
    """The staging tables of one device import on PostgreSQL: ``begin()``, ``add(rows)`` per
    batch, ``models(refs, analyze=True)``, ``check()``, then (in the import's transaction)
    ``models(refs)`` again, ``prepare_writing()``, ``write_changes()``, ``write_new(part)``
    per part; ``end()`` always. The tables are temporary: the session's own, gone with it."""

    def __init__(self, *, district_id: int):
        self.district_id = district_id
        # The COPY of the last batch, in flight while the importer parses the next one.
        self.copying: threading.Thread | None = None
        self.copy_error: BaseException | None = None

    def begin(self) -> None:
        spec = ", ".join(f"{name} {kind}" for name, kind in ROW_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {ROWS}, {MODELS}")
            cursor.execute(f"CREATE TEMPORARY TABLE {ROWS} ({spec})")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {MODELS} "
                "(ref integer PRIMARY KEY, model_id bigint NULL, maker varchar(100) NOT NULL)"
            )

    def add(self, rows, *, batch: int, first: int, per_part: int, refs: dict) -> None:
        """The parsed rows of one batch (the importer's ``DeviceRow``: line, asset tag,
        serial, model key, school, the place that named none, status, purchase date,
        funding, notes, auto-update date), the ``first``-th row of the file onwards, go
        to the table by COPY. Each becomes its line at once, no other object per row;
        ``refs`` numbers the catalog keys as they come."""
        lines = []
        add = lines.append
        for i, row in enumerate(rows, first):
            line, tag, serial, key, school, miss, status, bought, funding, notes, aue = row
            ref = refs.get(key)
            if ref is None:
                ref = refs[key] = len(refs)
            place = f"{NULL}\t{NULL}" if miss is None else f"{text(miss[0])}\t{text(miss[1])}"
            add(
                f"{line}\t{batch}\t{i // per_part}\t{text(tag)}\t{text(serial)}"
                f"\t{text(key[0])}\t{ref}\t{NULL if school is None else school}\t{place}"
                f"\t{status or NULL}\t{day(bought)}\t{funding or NULL}"
                f"\t{NULL if notes is None else text(notes)}\t{day(aue)}\n"
            )
        self.wait()  # one batch in flight at a time
        # The COPY goes on in a thread while the importer parses the next batch (psycopg2
        # lets go of the GIL while libpq sends and the server stores). The connection is
        # the session's own (the temporary table is the session's); Django's connection
        # object is per thread, hence the driver's. Nothing else uses the connection until
        # ``wait()``, which every other method and the importer (before its progress
        # callback, which may write) call first.
        driver = connection.connection
        text_of_rows = "".join(lines)
        self.copying = threading.Thread(
            target=self._copy_in, args=(driver, text_of_rows), name="device-import-stage"
        )
        self.copying.start()

    def _copy_in(self, driver, text_of_rows: str) -> None:
        columns = ", ".join(name for name, _ in ROW_COLUMNS)
        try:
            with driver.cursor() as cursor:
                cursor.copy_expert(f"COPY {ROWS} ({columns}) FROM STDIN", io.StringIO(text_of_rows))
        except BaseException as exc:  # noqa: BLE001 - raised again by wait(), in the caller
            self.copy_error = exc

    def wait(self, *, raise_error: bool = True) -> None:
        """Until the batch in flight is in the table; its COPY's error raised here, as
        Django raises a statement's (an IntegrityError, a DataError, ...)."""
        if self.copying is not None:
            self.copying.join()
            self.copying = None
        error, self.copy_error = self.copy_error, None
        if error is not None and raise_error:
            with connection.wrap_database_errors:
                raise error

    def models(self, refs: list[tuple[int, int | None, str]], *, analyze: bool = False) -> None:
        """The catalog entries the rows name: (ref, model id or None if not created yet,
        maker as the catalog spells it). ``analyze``: the rows are all staged, give the
        planner their statistics (once, before ``check()``)."""
        self.wait()
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {MODELS}")
            if refs:
                cursor.execute(
                    f"INSERT INTO {MODELS} (ref, model_id, maker) "  # noqa: S608
                    "SELECT * FROM unnest(%s::integer[], %s::bigint[], %s::varchar[])",
                    [[r[0] for r in refs], [r[1] for r in refs], [r[2] for r in refs]],
                )
            if analyze:
                # A sample of 3,000 rows rather than 30,000 (a tenth of the default target):
                # what the plans need is the rows' number and which keys are unique, and the
                # default sample cost 0.06 s of a 20,000-row import, 0.14 s at 200,000.
                with transaction.atomic(durable=False):
                    cursor.execute("SELECT set_config('default_statistics_target', '10', true)")
                    cursor.execute(f"ANALYZE {ROWS}")

    def prepare_writing(self) -> None:
        """Before the first ``write()``: each one reads its part of the rows by this index."""
        self.wait()
        with connection.cursor() as cursor:
            _plain_statements(cursor)
            cursor.execute(f"CREATE INDEX ON {ROWS} (part)")
            # The ids' sequence, named once: ``pg_get_serial_sequence`` in the SELECT would be
            # evaluated per row (a catalog lookup each: 0.8 s of 200,000 rows' writing).
            cursor.execute("SELECT pg_get_serial_sequence('equity_device', 'id')")
            self.sequence = cursor.fetchone()[0]

    def end(self) -> None:
        # After an exception (then the one propagating is the one to see) or after check(),
        # which raised the COPY's error already.
        self.wait(raise_error=False)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {ROWS}, {MODELS}")

    def check(
        self,
        *,
        allowed_school_ids: set[int] | None,
        default_school_id: int | None,
        checked_batches: int,
        limit: int,
    ) -> Verdict:
        """Every row's outcome in one statement: counts, and the first ``limit`` problems in
        the order the row-by-row path reports them (per batch: the file's duplicates with
        the cell errors, then what the inventory refuses). Rows of batches past
        ``checked_batches`` (the file stopped being readable) are only checked in the file."""
        allowed = sorted(allowed_school_ids) if allowed_school_ids is not None else None
        errors = ", ".join(f"'{e}'" for e in ERRORS)
        # Hash aggregates and hash joins only: no sort of the whole file (a text sort under
        # the database's collation costs seconds at 200,000 rows), and the file's
        # duplicates, usually none, are the groups of more than one row.
        sql = f"""
        WITH tags AS (
            SELECT asset_tag, min(line) AS first FROM {ROWS}
            GROUP BY asset_tag HAVING count(*) > 1
        ), serials AS (
            SELECT maker_key, serial, min(line) AS first FROM {ROWS}
            GROUP BY maker_key, serial HAVING count(*) > 1
        ), held AS (  -- a serial another device of the district has (for the same maker)
            SELECT DISTINCT s.line FROM {ROWS} s
            JOIN equity_device h ON h.district_id = %(district)s
                AND upper(h.serial_number::text) = upper(s.serial)  -- the search index
                AND h.serial_number = s.serial AND lower(h.maker) = s.maker_key
                AND h.asset_tag <> s.asset_tag
        ), v AS (
            SELECT s.line, s.batch, s.asset_tag, s.serial, s.miss_column, s.miss_value,
                coalesce(t.first < s.line, false) AS tag_twice,
                coalesce(sr.first < s.line, false) AS serial_twice,
                t.first AS tag_first, sr.first AS serial_first, d.status AS ex_status,
                s.status IS NOT NULL AND s.status <> d.status AS status_differs,
                CASE
                    WHEN t.first < s.line OR sr.first < s.line THEN 'dup'
                    WHEN s.batch >= %(checked)s THEN 'unchecked'
                    WHEN held.line IS NOT NULL THEN '{SERIAL_TAKEN}'
                    WHEN d.id IS NULL AND s.school_id IS NULL
                        AND %(default)s::bigint IS NULL THEN '{NO_SCHOOL}'
                    WHEN d.id IS NULL THEN '{CREATED}'
                    WHEN %(allowed)s::bigint[] IS NOT NULL
                        AND d.school_id <> ALL(%(allowed)s::bigint[]) THEN '{TAG_TAKEN}'
                    WHEN {MOVED} AND d.status = %(assigned)s THEN '{REFUSED}'
                    WHEN {CHANGED} THEN '{UPDATED}'
                    ELSE '{UNCHANGED}'
                END AS outcome
            FROM {ROWS} s
            JOIN {MODELS} m ON m.ref = s.model_ref
            LEFT JOIN tags t ON t.asset_tag = s.asset_tag
            LEFT JOIN serials sr ON sr.maker_key = s.maker_key AND sr.serial = s.serial
            LEFT JOIN held ON held.line = s.line
            LEFT JOIN equity_device d
                ON d.district_id = %(district)s AND d.asset_tag = s.asset_tag
        ), problems AS (
            SELECT x.what, v.line, v.batch, v.asset_tag, v.serial, x.earlier, v.miss_column,
                v.miss_value, v.ex_status
            FROM v, LATERAL (
                SELECT '{TAG_TWICE}' AS what, v.tag_first AS earlier, 0 AS stage, 0 AS n
                    WHERE v.tag_twice
                UNION ALL
                SELECT '{SERIAL_TWICE}', v.serial_first, 0, 1 WHERE v.serial_twice
                UNION ALL
                SELECT v.outcome, NULL, 1, 2 WHERE v.outcome IN ({errors})
            ) x
            WHERE v.tag_twice OR v.serial_twice OR v.outcome IN ({errors})  -- usually none
            ORDER BY v.batch, x.stage, v.line, x.n
            LIMIT %(limit)s
        )
        SELECT outcome, count(*), count(*) FILTER (WHERE status_differs),
            count(*) FILTER (WHERE tag_twice), count(*) FILTER (WHERE serial_twice), NULL
        FROM v GROUP BY outcome
        UNION ALL
        SELECT NULL, 0, 0, 0, 0, array_agg(json_build_array(
            what, line, batch, asset_tag, serial, earlier, miss_column, miss_value, ex_status
        )) FROM problems
        """  # noqa: S608 - table names and outcomes are constants
        params = {
            "district": self.district_id,
            "default": default_school_id,
            "allowed": allowed,
            "assigned": str(DeviceStatus.ASSIGNED),
            "checked": checked_batches,
            "limit": limit,
        }
        self.wait()
        verdict = Verdict()
        with transaction.atomic(), connection.cursor() as cursor:
            _plain_statements(cursor)
            cursor.execute(sql, params)
            for what, count, status_differs, tags, serials, found in cursor.fetchall():
                if what is None:
                    verdict.problems = [Problem(*_json(values)) for values in found or ()]
                elif what == "dup":
                    verdict.counts[TAG_TWICE] = tags
                    verdict.counts[SERIAL_TWICE] = serials
                else:
                    verdict.counts[what] = count
                    if what in (UPDATED, UNCHANGED):
                        verdict.status_kept += status_differs
        return verdict

    def write_changes(self, *, by_id: int | None, now, note_suffix: str) -> int:
        """Every existing device the rows change, with the events of a move: the number
        updated. Once, before the parts of new devices (changes are a few rows; one join
        of the staged rows costs what forty would); then the staged rows of existing
        devices are dropped, so the parts hold only new ones (a device another writer
        added since the check makes the COPY fail on its unique key: rolled back). In the
        caller's transaction."""
        base = {"district": self.district_id, "now": now, "by": by_id}
        with connection.cursor() as cursor:
            # Each statement joins the staged rows to the district's devices by asset tag:
            # hashed, not merged (a merge sorts the whole file's tags under the database's
            # collation, three times). Until the end of these three statements.
            cursor.execute("SELECT set_config('enable_mergejoin', 'off', true)")
            # A move's two events, as devices_move writes them: the leaving (seen by the
            # school it left, naming the new one) and the arrival; before the UPDATE, which
            # changes the school they read.
            cursor.execute(
                f"""
                INSERT INTO equity_deviceevent
                    (device_id, kind, at, by_id, school_id, student_id, circumstance, place, note)
                SELECT d.id, e.kind, %(now)s, %(by)s,
                    CASE e.n WHEN 1 THEN d.school_id ELSE s.school_id END, NULL, '', '',
                    CASE e.n WHEN 1 THEN 'to ' || sc.name || %(suffix)s ELSE '' END
                FROM {ROWS} s
                JOIN equity_device d ON d.district_id = %(district)s AND d.asset_tag = s.asset_tag
                JOIN schools_school sc ON sc.id = s.school_id
                CROSS JOIN (VALUES (1, %(moved)s), (2, %(arrived)s)) AS e (n, kind)
                WHERE {MOVED}
                ORDER BY s.line, e.n
                """,  # noqa: S608
                {**base, "suffix": note_suffix, "moved": str(EventKind.MOVED),
                 "arrived": str(EventKind.ARRIVED)},
            )  # fmt: skip
            cursor.execute(
                f"""
                UPDATE equity_device d SET
                    model_id = m.model_id, maker = m.maker, serial_number = s.serial,
                    school_id = COALESCE(s.school_id, d.school_id),
                    purchase_date = COALESCE(s.purchase_date, d.purchase_date),
                    funding_source = COALESCE(s.funding_source, d.funding_source),
                    notes = COALESCE(s.notes, d.notes),
                    auto_update_expiration = COALESCE(s.aue, d.auto_update_expiration),
                    updated_at = %(now)s
                FROM {ROWS} s JOIN {MODELS} m ON m.ref = s.model_ref
                WHERE d.district_id = %(district)s AND d.asset_tag = s.asset_tag AND {CHANGED}
                """,  # noqa: S608
                base,
            )
            updated = cursor.rowcount
            # What is left staged is new: one join here, rather than each part looking its
            # rows up among the district's devices (which the planner did by hashing them
            # all, the ones the earlier parts had just written included: quadratic).
            cursor.execute(
                f"DELETE FROM {ROWS} s USING equity_device d "  # noqa: S608
                "WHERE d.district_id = %(district)s AND d.asset_tag = s.asset_tag",
                base,
            )
            cursor.execute("RESET enable_mergejoin")
            return updated

    def write_new(self, *, part: int, by_id: int | None, now, default_school_id: int | None) -> int:
        """The new devices of one part of the rows, each with its "Added to inventory"
        event: the number created. In the caller's transaction, after ``prepare_writing()``
        and ``write_changes()``.

        The rows become device lines in the database (``COPY (SELECT ...) TO STDOUT``, ids
        from the table's sequence) and go back in with ``COPY ... FROM STDIN``, as the
        floor writes them: ``INSERT ... SELECT`` inserts row by row where ``COPY`` fills a
        page at a time, which cost a third more at 200,000 rows. The events' lines are made
        from the devices' (id, school) while they pass; one part's text is held at a time."""
        select = f"""
            SELECT nextval(%(sequence)s::regclass), x.*
            FROM (
                SELECT COALESCE(s.school_id, %(default)s::bigint), %(district)s::bigint,
                    m.model_id, m.maker, s.asset_tag, s.serial, COALESCE(s.status, %(in_stock)s),
                    s.purchase_date, COALESCE(s.funding_source, ''), COALESCE(s.notes, ''),
                    s.aue, %(now)s::timestamptz, %(now)s::timestamptz
                FROM {ROWS} s JOIN {MODELS} m ON m.ref = s.model_ref
                WHERE s.part = %(part)s
                ORDER BY s.line
            ) x
        """  # noqa: S608 - the table names are constants
        params = {"district": self.district_id, "now": now, "part": part, "sequence": self.sequence,
                  "default": default_school_id, "in_stock": str(DeviceStatus.IN_STOCK)}  # fmt: skip
        devices = io.StringIO()
        # The raw cursor's COPY raises psycopg2's errors: Django's, as for every statement
        # (a unique key another writer took is an IntegrityError, which rolls back).
        with connection.wrap_database_errors, connection.cursor() as cursor:
            query = cursor.mogrify(select, params)
            cursor.cursor.copy_expert(f"COPY ({_text(query)}) TO STDOUT", devices)
            text_of_devices = devices.getvalue()
            if not text_of_devices:
                return 0
            devices.seek(0)
            cursor.cursor.copy_expert(f"COPY equity_device ({DEVICE_COLUMNS}) FROM STDIN", devices)
            # Each line starts "id\tschool_id\t": the event's device and school. (Lines end
            # in "\n" alone: COPY escapes the newlines of a value, not other line breaks.)
            kind, by = str(EventKind.CREATED), NULL if by_id is None else by_id
            tail = f"\t{kind}\t{now.isoformat()}\t{by}"
            tail += "\t\\N\t\t\t\n"
            events = io.StringIO(
                "".join(
                    f"{device}\t{school}{tail}"
                    for device, school, _rest in (
                        line.split("\t", 2) for line in text_of_devices[:-1].split("\n")
                    )
                )
            )
            cursor.cursor.copy_expert(
                f"COPY equity_deviceevent ({EVENT_COLUMNS}) FROM STDIN", events
            )
            return text_of_devices.count("\n")


DEVICE_COLUMNS = (
    "id, school_id, district_id, model_id, maker, asset_tag, serial_number, status, "
    "purchase_date, funding_source, notes, auto_update_expiration, created_at, updated_at"
)
EVENT_COLUMNS = "device_id, school_id, kind, at, by_id, student_id, circumstance, place, note"


def _text(query) -> str:
    return query.decode() if isinstance(query, bytes) else query


def _json(values) -> list:
    return json.loads(values) if isinstance(values, str) else values


def _plain_statements(cursor) -> None:
    """For the rest of the transaction: no JIT compilation (these statements run once;
    compiling their expressions cost seconds at 200,000 rows) and room to hash the file's
    keys in memory rather than sort them."""
    cursor.execute("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)")
