"""The importers' bulk SQL: COPY with lines formatted once per row, and key lookups.

The importers know their columns' types, so on PostgreSQL they format a whole line with
one f-string (``line(row)``, passed to ``schools.bulk.copy_rows``) and only escape the
free-text cells, instead of a type check per cell; elsewhere (SQLite) the same tuples go
through ``executemany``. Ids come from ``schools.bulk.reserve_ids``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from django.db import connection, models

from schools.bulk import copy_into, copy_rows, escaped

NULL = "\\N"

# A student row as both the importer and seed_scale write it.
STUDENT_COPY_FIELDS = [
    "id",
    "district",
    "school",
    "local_id",
    "grade",
    "needs_touch",
    "home_internet",
    "homeroom",
    "fee_waiver",
    "active",
    "left_on",
    "leave_reason",
    "created_at",
    "updated_at",
]
text = escaped  # a free-text cell


def day(value: date | None) -> str:
    return NULL if value is None else value.isoformat()


def number(value: int | None) -> str:
    return NULL if value is None else str(value)


def write_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: list[tuple],
    line: Callable[[tuple], str],
) -> None:
    """Write ``rows`` into ``model``'s table: COPY of ``line(row)``, or ``executemany``."""
    copy_rows(model, fields, rows, line)


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
        copy_into(self.table, self.names, rows, self.line)
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
