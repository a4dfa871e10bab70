"""Reading a CSV file as districts save them: encoding, delimiter, header and cell values.

``Source`` finds the encoding (UTF-8 with or without BOM, else Windows-1252) by decoding the
bytes in 1 MiB chunks, and the delimiter (comma or semicolon) from the header line. Rows are
read with ``csv.reader`` over a text wrapper: the file is never held in memory as a list. A
NUL byte (which PostgreSQL cannot store) is refused at its row before any row is read, and
a row the reader cannot take (a cell beyond csv's size limit, a quote never closed) is a
row error, not a traceback. The header maps columns by normalised name (case, spaces, ``_``
and ``-`` do not matter, so "Serial Number", "serial_number" and GAM's "serialNumber" are
one column); the ``parse_*`` functions read one cell each or raise ``Invalid`` saying why.
Nothing here touches the database.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

from equity.inventory.models import DeviceKind, DeviceStatus, HomeInternet
from schools.funding import FundingSource
from schools.models import DateOrder, Grade

# The formats a file's columns may follow (the importer detects them from the header).
PILLARWISE = "pillarwise"
GOOGLE_ADMIN = "google-admin"
FORMATS = (PILLARWISE, GOOGLE_ADMIN)

CHUNK = 1 << 20  # bytes read at a time when sniffing the encoding


# Distinct cell values remembered once parsed (dates, prices, model names): a file repeats
# a few hundred of them, so parsing costs a dictionary lookup; the bound keeps memory flat.
CACHED_VALUES = 4096


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem with one cell. ``row`` is the file's line number (the header is line 1)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, column {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


ENCODING_NAMES = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252"}


# A NUL byte is text to Python and to SQLite, but PostgreSQL cannot store it; a file full of
# them was most likely saved as UTF-16, whose every other byte is NUL for Latin letters.
NUL_MESSAGE = (
    'contains a NUL byte (an invisible character no field can hold); save the file as "CSV '
    'UTF-8" (not UTF-16 or "Unicode text") and import it again'
)


class Unreadable(Exception):
    """The CSV reader cannot go on (a cell beyond csv's size limit, a quote never closed)."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _first_failure(binary, encoding: str) -> tuple[bool, int, int, int]:
    """Decode the whole file in chunks: (decodes?, line of the first bad byte, lines, line
    of the first NUL byte or 0)."""
    binary.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    nul_line = 0
    while True:
        chunk = binary.read(CHUNK)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            return False, lines + chunk.count(b"\n", 0, exc.start) + 1, lines, nul_line
        if not nul_line and (at := chunk.find(b"\x00")) >= 0:
            nul_line = lines + chunk.count(b"\n", 0, at) + 1
        lines += chunk.count(b"\n")
        if not chunk:
            return True, 0, lines, nul_line


class Source:
    """A seekable binary CSV file, read as text however it was saved."""

    def __init__(self, binary):
        self.binary = binary
        self.error: RowError | None = None
        self.encoding = "utf-8-sig"
        decodes, _line, newlines, nul_line = _first_failure(binary, "utf-8-sig")
        if not decodes:
            self.encoding = "cp1252"
            decodes, line, newlines, nul_line = _first_failure(binary, "cp1252")
            if not decodes:
                self.error = RowError(
                    line,
                    "",
                    "this line is neither UTF-8 nor Windows-1252 text; "
                    'save the file again as "CSV UTF-8"',
                )
        if self.error is None and nul_line:
            # Refused before anything reads the rows (or stores the file for a worker).
            self.error = RowError(nul_line, "", NUL_MESSAGE)
        self.data_rows = self._count_rows(newlines)
        self.delimiter = ","
        if self.error is None:
            with self.text() as f:
                first = f.readline()
            self.delimiter = ";" if first.count(";") > first.count(",") else ","

    def _count_rows(self, newlines: int) -> int:
        """Data rows, counted by line breaks (a quoted line break counts too)."""
        size = self.binary.seek(0, io.SEEK_END)
        if size == 0:
            return 0
        self.binary.seek(size - 1)
        last_is_newline = self.binary.read(1) == b"\n"
        return max(newlines + (0 if last_is_newline else 1) - 1, 0)

    @property
    def encoding_name(self) -> str:
        return ENCODING_NAMES[self.encoding]

    @contextmanager
    def text(self):
        self.binary.seek(0)
        wrapper = io.TextIOWrapper(self.binary, encoding=self.encoding, newline="")
        try:
            yield wrapper
        finally:
            wrapper.detach()  # leave the caller's file open

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) of every row, the header first; Unreadable where the CSV
        reader cannot go on."""
        with self.text() as f:
            reader = csv.reader(f, delimiter=self.delimiter)
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise Unreadable(reader.line_num, _csv_problem(exc)) from None
                yield reader.line_num, record

    def read_text(self) -> str:
        self.binary.seek(0)
        return self.binary.read().decode(self.encoding)


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return (
            f"a cell is longer than {csv.field_size_limit():,} characters; is a quote "
            "missing its pair?"
        )
    return f"cannot be read as CSV ({exc})"


def as_source(source_or_binary) -> Source:
    if isinstance(source_or_binary, Source):
        return source_or_binary
    return Source(source_or_binary)


_NORM = re.compile(r"[\s_\-.]+")


@lru_cache(maxsize=CACHED_VALUES)
def norm(text: str) -> str:
    """A header or keyword with case, spaces, underscores, hyphens and dots removed."""
    return _NORM.sub("", text).lower()


class Column(NamedTuple):
    field: str
    aliases: tuple[str, ...]  # normalised header names
    label: str  # how a message names the column when it is missing


@dataclass
class Header:
    index: dict[str, int]  # field -> position
    names: dict[str, str]  # field -> the header text as the file spells it
    ignored: list[str]
    width: int

    def name(self, field: str, columns) -> str:
        if field in self.names:
            return self.names[field]
        return next(c.label for c in columns if c.field == field)


def map_header(header: list[str], columns) -> tuple[Header, list[RowError]]:
    by_alias = {alias: c for c in columns for alias in c.aliases}
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    ignored: list[str] = []
    errors: list[RowError] = []
    for i, raw in enumerate(header):
        text = raw.strip()
        column = by_alias.get(norm(text))
        if column is None:
            if text:
                ignored.append(text)
        elif column.field in index:
            errors.append(
                RowError(
                    1,
                    text,
                    f'"{names[column.field]}" and "{text}" are the same column; keep one',
                )
            )
        else:
            index[column.field] = i
            names[column.field] = text
    return Header(index, names, ignored, len(header)), errors


class Invalid(Exception):
    """A cell's value cannot be used; the message says why."""


def quoted(value: str) -> str:
    return f'"{value if len(value) <= 40 else value[:39] + "…"}"'


def _choices(choices, extra: dict[str, str] | None = None) -> dict[str, str]:
    table = {}
    for value, label in choices:
        table[norm(value)] = value
        table[norm(str(label))] = value
    table.update(extra or {})
    return table


KINDS = _choices(DeviceKind.choices)


FUNDING = _choices(FundingSource.choices, {"title1": "title_i", "titleiva": "title_iv_a"})


STATUSES = _choices(DeviceStatus.choices)


HOME_INTERNET = _choices(
    HomeInternet.choices,
    {"y": "yes", "true": "yes", "1": "yes", "n": "no", "false": "no", "0": "no", "?": "unknown"},
)


# Google's device states (Admin console words and the API's): see docs/imports.md.
GOOGLE_STATUSES = {
    "active": DeviceStatus.IN_STOCK,
    "provisioned": DeviceStatus.IN_STOCK,
    "inactive": DeviceStatus.IN_STOCK,
    "delinquent": DeviceStatus.IN_STOCK,
    "preprovisioned": DeviceStatus.IN_STOCK,
    "shipped": DeviceStatus.IN_STOCK,
    "unknown": DeviceStatus.IN_STOCK,
    "disabled": DeviceStatus.RETIRED,
    "deprovisioned": DeviceStatus.RETIRED,
    "returnrequested": DeviceStatus.IN_REPAIR,
    "returnarrived": DeviceStatus.IN_REPAIR,
}


TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "x"})


FALSE_WORDS = frozenset({"no", "n", "false", "f", "0"})


GRADES = {"pk": Grade.PK, "prek": Grade.PK, "p": Grade.PK, "prekindergarten": Grade.PK}


GRADES |= {"k": Grade.K, "kg": Grade.K, "kindergarten": Grade.K}


GRADES |= {str(g): Grade(g) for g in range(0, 13)} | {f"0{g}": Grade(g) for g in range(0, 10)}


_ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ].*)?$")


_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")


_YEAR_MONTH = re.compile(r"(\d{4})-(\d{1,2})$")


# The product's own way of writing a date ("Aug 15, 2026"), so a copied cell reads back.
_WORDED_DATES = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y")


ORDER_HINT = {DateOrder.MDY: "MM/DD/YYYY", DateOrder.DMY: "DD/MM/YYYY"}


def parse_bool(value: str) -> bool:
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise Invalid(f"{quoted(value)} is not yes or no")


@lru_cache(maxsize=CACHED_VALUES)
def parse_date(value: str, order: str = DateOrder.MDY) -> date:
    """A date written as ISO (2026-08-15), in the district's numeric order (08/15/2026 where
    dates are month first), or in words (Aug 15, 2026). A two-digit year is ambiguous and a
    day-month pair that only the other order can read is refused, never guessed."""
    hint = ORDER_HINT[order]
    if m := _ISO_DATE.match(value):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise Invalid(f"{quoted(value)} is not a date (use YYYY-MM-DD)") from None
    if m := _NUMERIC_DATE.match(value):
        first, second, year = int(m[1]), int(m[2]), m[3]
        if len(year) == 2:
            raise Invalid(
                f"{quoted(value)} is ambiguous: write the year in full ({hint} or YYYY-MM-DD)"
            )
        month, day_ = (first, second) if order == DateOrder.MDY else (second, first)
        try:
            return date(int(year), month, day_)
        except ValueError:
            pass
        try:
            date(int(year), day_, month)
        except ValueError:
            raise Invalid(f"{quoted(value)} is not a date (use {hint} or YYYY-MM-DD)") from None
        raise Invalid(
            f"{quoted(value)} is not a date in this district's order {hint}; are the day and "
            "month swapped? Write it as YYYY-MM-DD to be sure"
        )
    for pattern in _WORDED_DATES:
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise Invalid(f"{quoted(value)} is not a date (use {hint} or YYYY-MM-DD)")


def _end_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


@lru_cache(maxsize=CACHED_VALUES)
def parse_month_or_date(value: str, order: str = DateOrder.MDY) -> date:
    """An auto-update expiration: a date, or a month (its last day: updates ship all month)."""
    if m := _YEAR_MONTH.match(value):
        try:
            return _end_of_month(int(m[1]), int(m[2]))
        except (ValueError, calendar.IllegalMonthError):
            raise Invalid(f"{quoted(value)} is not a month (use YYYY-MM)") from None
    for pattern in ("%b %Y", "%B %Y"):
        try:
            parsed = datetime.strptime(value, pattern)  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
        return _end_of_month(parsed.year, parsed.month)
    try:
        return parse_date(value, order)
    except Invalid as exc:
        if "ambiguous" in str(exc) or "swapped" in str(exc):
            raise
        hint = f"YYYY-MM, {ORDER_HINT[order]} or YYYY-MM-DD"
        raise Invalid(f"{quoted(value)} is not a date (use {hint})") from None


def parse_price(value: str, delimiter: str) -> Decimal:
    text = value.replace("$", "").replace("€", "").replace("£", "").replace(" ", "")
    if "," in text and "." not in text and delimiter == ";":
        text = text.replace(",", ".")  # a European decimal comma
    text = text.replace(",", "")
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise Invalid(f"{quoted(value)} is not a price") from None
    if not price.is_finite() or price < 0 or price >= Decimal("10000000"):
        raise Invalid(f"{quoted(value)} is not a price")
    return price.quantize(Decimal("0.01"))


def parse_choice(value: str, table: dict[str, str], what: str) -> str:
    found = table.get(norm(value))
    if found is None:
        accepted = ", ".join(sorted(set(table.values())))
        raise Invalid(f"{quoted(value)} is not a {what} (use one of: {accepted})")
    return found


def parse_grade(value: str) -> int:
    text = value.strip()
    # Words are normalised ("Pre-K", "KG"); numbers are taken as written ("-2" is no grade).
    found = GRADES.get(text if any(c.isdigit() for c in text) else norm(text))
    if found is None:
        raise Invalid(f"{quoted(value)} is not a grade (use PK, K or 1–12)")
    return int(found)


def grade_label(grade: int) -> str:
    return Grade(grade).label
