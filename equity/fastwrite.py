"""The importers' bulk SQL: COPY with lines formatted once per row, and key lookups.

``schools.bulk.copy_rows`` turns each cell into COPY text through a chain of type checks,
which costs more than PostgreSQL takes to store the row (about 4 µs a cell, half of the
device import's writing time). The importers know their columns' types, so on PostgreSQL
they format a whole line with one f-string (``line(row)``) and only escape the free-text
cells; elsewhere (SQLite) the same tuples go through ``copy_rows`` (``executemany``).
Ids still come from ``schools.bulk.reserve_ids``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date

from django.db import connection, models

from schools.bulk import _plain, copy_rows

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def text(value: str) -> str:
    """A text cell as COPY's text format wants it."""
    return value.translate(_ESCAPES)


def day(value: date | None) -> str:
    return NULL if value is None else value.isoformat()


def number(value: int | None) -> str:
    return NULL if value is None else str(value)


class _Lines:
    """A read-only file over formatted lines, produced as psycopg2 asks for them."""

    def __init__(self, lines: Iterable[str]):
        self._lines = iter(lines)
        self._buffer = ""

    def read(self, size: int = -1) -> str:
        parts, length = [self._buffer], len(self._buffer)
        for line in self._lines:
            parts.append(line)
            length += len(line)
            if 0 <= size <= length:
                break
        data = "".join(parts)
        if size < 0:
            self._buffer = ""
            return data
        self._buffer = data[size:]
        return data[:size]


def copy_lines(table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """PostgreSQL only: ``COPY table (columns) FROM STDIN`` of lines already formatted."""
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN",
            _Lines(lines),
            size=1 << 16,
        )


def write_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: list[tuple],
    line: Callable[[tuple], str],
) -> None:
    """Write ``rows`` into ``model``'s table: COPY of ``line(row)``, or ``copy_rows``."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        columns = [model._meta.get_field(name).column for name in fields]
        copy_lines(model._meta.db_table, columns, map(line, rows))
    else:
        copy_rows(model, fields, rows)


def write_table(table: str, columns: Sequence[str], rows: list[tuple], line) -> None:
    """Like ``write_rows`` for a table without a model (an importer's temporary table)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        copy_lines(table, columns, map(line, rows))
        return
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({marks})",  # noqa: S608
            [tuple(_plain(v) for v in row) for row in rows],
        )


class ChangeTable:
    """Changed rows of ``model``, gathered in a temporary table and written by one
    ``UPDATE ... FROM`` at the end of an import.

    ``bulk_update`` builds a ``CASE WHEN id = ... THEN ...`` per column and row, which
    Django compiles expression by expression (slower than the rows themselves, and
    quadratic in the SQL); a temporary table filled through COPY (``executemany`` on
    SQLite) and joined once costs what the rows cost. It lives inside the import's
    transaction: created by ``create()``, dropped by ``apply()``, gone on a rollback.
    ``columns`` are (column, SQL type) pairs, the primary key first; ``line`` formats one
    row for COPY.
    """

    def __init__(self, model: type[models.Model], columns, line: Callable[[tuple], str]):
        self.model = model
        self.table = f"{model._meta.db_table}_import_changes"
        self.columns = tuple(columns)
        self.names = [name for name, _kind in self.columns]
        self.line = line
        self.count = 0

    def create(self) -> None:
        spec = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(f"CREATE TEMPORARY TABLE {self.table} ({spec})")
        self.count = 0

    def add(self, rows: list[tuple]) -> None:
        write_table(self.table, self.names, rows, self.line)
        self.count += len(rows)

    def apply(self, now, **constants) -> None:
        """One UPDATE of every gathered row (``updated_at`` = ``now``, plus ``constants``)."""
        target = self.model._meta.db_table
        pk = self.names[0]
        sets = [f"{name} = c.{name}" for name in self.names[1:]]
        sets += [f"{name} = %s" for name in constants]
        with connection.cursor() as cursor:
            if self.count:
                cursor.execute(
                    f"UPDATE {target} SET {', '.join(sets)}, updated_at = %s "  # noqa: S608
                    f"FROM {self.table} AS c WHERE {target}.{pk} = c.{pk}",
                    [*constants.values(), now],
                )
            cursor.execute(f"DROP TABLE {self.table}")
        self.count = 0


def among(column: str, values: list) -> tuple[str, list]:
    """``column`` is one of ``values``: one array parameter on PostgreSQL (no per-value
    placeholder to compile), ``IN (...)`` elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
