"""Write many rows at the speed of the database: PostgreSQL ``COPY``, or ``executemany``.

Used by ``seed_scale`` and the device importer. Rows are plain tuples in the order of the
field names given; nothing is held in memory beyond one buffer of text. Neither function
runs ``save()``, ``clean()`` or signals: callers validate first, and send what the signals
would have sent themselves.

- ``reserve_ids(model, n)`` hands out ``n`` primary keys from the table's own sequence (one
  query), so rows that point at each other can be written with ``copy_rows`` in any order.
- ``copy_rows(model, fields, rows)`` writes the rows; on PostgreSQL through ``COPY ... FROM
  STDIN`` fed by a stream, elsewhere (SQLite in ``make run`` and the local suite) through
  ``executemany`` in batches. ``copy_into(table, columns, rows)`` does the same for a table
  without a model (a temporary table). Both take an optional ``line`` formatter for callers
  that know their columns' types (``escaped`` for their free text). Every NOT NULL column
  must be given: Django's field defaults (``default=``, ``auto_now``) are not applied.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

from django.db import connection, models

SQLITE_BATCH = 5000
# Text-format COPY escapes: backslash first, then the separators it would confuse.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` fresh primary keys of ``model``'s table, in increasing order.

    On PostgreSQL they come from the table's identity sequence, so concurrent writers never
    collide. On SQLite (one writer at a time) they are the numbers above the largest id;
    call this inside the transaction that writes them.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), pk, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            f"SELECT COALESCE(MAX({connection.ops.quote_name(pk)}), 0) "  # noqa: S608
            f"FROM {connection.ops.quote_name(table)}"
        )
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def _columns(model: type[models.Model], fields: Sequence[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in fields]


def _plain(value: object) -> object:
    """A value as the database driver or COPY wants it."""
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def escaped(text: str) -> str:
    """A text cell in COPY's text format (backslash, tab and newlines escaped)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def _copy_text(value: object) -> str:
    """One value in COPY's text format. Called for every cell of millions of rows, so the
    common types are tested by identity first (``type(True)`` is ``bool``, never ``int``,
    so a flag is written as t/f)."""
    kind = type(value)
    if kind is str:
        return escaped(value)
    if kind is int or kind is float:
        return str(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    return escaped(str(_plain(value)))


def copy_line(row: Sequence[object]) -> str:
    """One row as a line of COPY's text format, whatever the types of its values."""
    return "\t".join(map(_copy_text, row)) + "\n"


class _LineStream:
    """A read-only file over lines, produced as psycopg2 asks for them."""

    def __init__(self, lines: Iterable[str]):
        self._lines = iter(lines)
        self._buffer = ""
        self.count = 0

    def read(self, size: int = -1) -> str:
        parts = [self._buffer]
        length = len(self._buffer)
        for line in self._lines:
            self.count += 1
            parts.append(line)
            length += len(line)
            if 0 <= size <= length:
                break
        text = "".join(parts)
        if size < 0:
            self._buffer = ""
            return text
        self._buffer = text[size:]
        return text[:size]


def copy_into(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    line: Callable[[Sequence[object]], str] = copy_line,
) -> int:
    """Write ``rows`` into ``table`` (a name: also a temporary table without a model); the
    count. On PostgreSQL each row becomes ``line(row)``: a caller that knows its columns'
    types may pass a faster formatter (``escaped`` for its free text)."""
    name = connection.ops.quote_name(table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        stream = _LineStream(map(line, rows))
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {name} ({quoted}) FROM STDIN", stream, size=1 << 16)
        return stream.count
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {name} ({quoted}) VALUES ({marks})"  # noqa: S608 - names, not data
    written = 0
    iterator: Iterator[Sequence[object]] = iter(rows)
    with connection.cursor() as cursor:
        while batch := [tuple(_plain(v) for v in row) for row in islice(iterator, SQLITE_BATCH)]:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def copy_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[object]],
    line: Callable[[Sequence[object]], str] = copy_line,
) -> int:
    """Write ``rows`` (tuples in the order of ``fields``) into ``model``'s table; the count."""
    return copy_into(model._meta.db_table, _columns(model, fields), rows, line)
