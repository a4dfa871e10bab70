"""CSV imports of devices and students: check every row, then write all of it or nothing.

Used by ``manage.py import_devices`` / ``import_students``, the upload pages and the
``run_import`` task. The rules for users are in docs/imports.md; the shape is:

1. ``Source`` finds the encoding (UTF-8 with or without BOM, else Windows-1252) by
   decoding the bytes in 1 MiB chunks, and the delimiter (comma or semicolon) from the
   header line. Rows are read with ``csv.reader`` over a text wrapper: the file is never
   held in memory as a list. A NUL byte (which PostgreSQL cannot store) is refused at its
   row before any row is read, and a row the reader cannot take (a cell beyond csv's size
   limit, a quote never closed) is a row error, not a traceback.
2. The header row picks the format (when not given) and maps columns by normalised name
   (case, spaces, ``_`` and ``-`` do not matter, so "Serial Number", "serial_number" and
   GAM's "serialNumber" are one column). A required column that is missing is one error.
3. First pass: every row is parsed and checked. What the database must answer (asset
   tags, serials and student IDs already used anywhere in the district) is asked once per
   batch of ``LOOKUP_BATCH`` rows with set-based queries. Only compact keys stay in memory
   (for duplicates inside the file); rows are dropped after their batch.
4. Any error: nothing is written. Otherwise (and not a dry run) a second pass re-reads the
   file inside one ``transaction.atomic`` and, per batch of ``WRITE_BATCH`` rows, takes ids
   for the new records from the table's sequence (``schools.bulk.reserve_ids``) and writes
   them and their history with ``COPY`` (``equity.fastwrite``; ``executemany`` on SQLite).
   Changed records go to a temporary table; one ``UPDATE ... FROM`` writes them all after
   the last batch, in the same transaction.

Everything runs with scopes disabled, because uniqueness is district-wide; callers acting
for a user pass ``allowed_school_ids`` and the importer refuses rows that would touch any
other school, answering only "already used in the district" about what it found there.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from schools.bulk import reserve_ids
from schools.models import DateOrder, District, Grade, Role, School
from schools.scoping import scopes_disabled
from schools.signals import bulk_changed

from . import fastwrite
from .fastwrite import STUDENT_COPY_FIELDS, day, number, text
from .models import (
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceModel,
    DeviceStatus,
    EventKind,
    FundingSource,
    HomeInternet,
    Student,
)

PILLARWISE = "pillarwise"
GOOGLE_ADMIN = "google-admin"
FORMATS = (PILLARWISE, GOOGLE_ADMIN)

# Who may import at a school (the upload pages and the task use the same rule).
IMPORT_ROLES = (Role.TECH_STAFF, Role.PRINCIPAL, Role.DISTRICT_ADMIN)

LOOKUP_BATCH = 5000  # rows per existence query
WRITE_BATCH = 5000  # rows per write batch: one lookup of existing records, one COPY each
PROGRESS_EVERY = 1000  # rows between progress callbacks
MAX_ERRORS = 1000  # errors kept (all are counted)
CHUNK = 1 << 20  # bytes read at a time when sniffing the encoding
# Distinct cell values remembered once parsed (dates, prices, model names): a file repeats
# a few hundred of them, so parsing costs a dictionary lookup; the bound keeps memory flat.
CACHED_VALUES = 4096
AUE_SAMPLE_ROWS = 5  # row numbers named per auto-update date where a model's rows disagree

Progress = Callable[[int, int], None]


# --- results ----------------------------------------------------------------------------


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


@dataclass
class ImportResult:
    kind: str  # "devices" or "students"
    dry_run: bool = False
    format: str = ""
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    models_created: list[str] = field(default_factory=list)
    aue_disagreements: list[str] = field(default_factory=list)
    status_kept: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def noun(self, n: int) -> str:
        singular = {"devices": "device", "students": "student"}[self.kind]
        return singular if n == 1 else self.kind

    @property
    def summary(self) -> str:
        if not self.ok:
            problems = "problem" if self.error_count == 1 else "problems"
            return f"{self.error_count:,} {problems} found; nothing was imported."
        counts = f"({self.created:,} created, {self.updated:,} updated)"
        if self.dry_run:
            return (
                f"Would import {self.rows:,} {self.noun(self.rows)} {counts}; "
                "nothing was written (dry run)."
            )
        return f"Imported {self.rows:,} {self.noun(self.rows)} {counts}"

    @property
    def details(self) -> list[str]:
        """Further lines for people: what was read, what was ignored, what was kept."""
        lines = []
        if self.encoding:
            delimiter = "semicolon" if self.delimiter == ";" else "comma"
            lines.append(f"Read as {self.format}, {self.encoding}, {delimiter}-separated.")
        if self.ignored_columns:
            lines.append("ignored columns: " + ", ".join(self.ignored_columns))
        if self.ok and self.unchanged:
            lines.append(f"{self.unchanged:,} rows matched records that were already up to date.")
        if self.ok and self.models_created:
            verb = "Would add" if self.dry_run else "Added"
            lines.append(f"{verb} to the device catalog: " + ", ".join(self.models_created))
        lines.extend(self.aue_disagreements)
        if self.ok and self.status_kept:
            lines.append(
                f"The status of {self.status_kept:,} existing devices differs in the file and "
                "was left as it is: change a status on the device's page, which records it."
            )
        return lines


class ImportSetupError(Exception):
    """The command line named no usable district or school."""


# --- reading the file ---------------------------------------------------------------------


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


# --- header -------------------------------------------------------------------------------

_NORM = re.compile(r"[\s_\-.]+")


@lru_cache(maxsize=CACHED_VALUES)
def norm(text: str) -> str:
    """A header or keyword with case, spaces, underscores, hyphens and dots removed."""
    return _NORM.sub("", text).lower()


class Column(NamedTuple):
    field: str
    aliases: tuple[str, ...]  # normalised header names
    label: str  # how a message names the column when it is missing


PILLARWISE_DEVICE_COLUMNS = (
    Column("asset_tag", ("assettag",), "asset_tag"),
    Column("serial_number", ("serialnumber", "serial"), "serial_number"),
    Column("maker", ("maker", "manufacturer", "make"), "maker"),
    Column("model", ("model",), "model"),
    Column("kind", ("kind", "devicetype", "type"), "kind"),
    Column("touchscreen", ("touchscreen", "touch"), "touchscreen"),
    Column("school", ("school", "schoolcode"), "school"),
    Column("status", ("status",), "status"),
    Column("purchase_date", ("purchasedate", "purchased"), "purchase_date"),
    Column("funding_source", ("fundingsource", "funding"), "funding_source"),
    Column("unit_price", ("unitprice", "price"), "unit_price"),
    Column("auto_update_expiration", ("autoupdateexpiration", "aue"), "auto_update_expiration"),
    Column("notes", ("notes", "note"), "notes"),
)

# The Admin console's export ("Serial Number", "Asset ID", "Org Unit Path", ...) and GAM's
# `print cros` ("serialNumber", "annotatedAssetId", "orgUnitPath", ...) normalise alike.
# "User" / "annotatedUser" is a person's account: not read (students are pseudonymous).
GOOGLE_DEVICE_COLUMNS = (
    Column("serial_number", ("serialnumber",), "Serial Number"),
    Column("model", ("model",), "Model"),
    Column("status", ("status",), "Status"),
    Column("asset_tag", ("assetid", "annotatedassetid"), "Asset ID"),
    Column("org_unit", ("orgunit", "orgunitpath"), "Org Unit"),
    Column("location", ("location", "annotatedlocation"), "Location"),
    Column("auto_update_expiration", ("autoupdateexpiration",), "Auto Update Expiration"),
    Column("notes", ("notes",), "Notes"),
)

STUDENT_COLUMNS = (
    Column("local_id", ("studentid", "localid", "localstudentid", "studentnumber"), "student_id"),
    Column("school", ("school", "schoolcode"), "school"),
    Column("grade", ("grade", "gradelevel"), "grade"),
    Column("needs_touch", ("needstouch", "needstouchscreen"), "needs_touch"),
    Column("home_internet", ("homeinternet", "internetathome"), "home_internet"),
)

PILLARWISE_MARKERS = frozenset({"assettag", "school", "schoolcode", "maker"})
GOOGLE_MARKERS = frozenset(
    {
        "assetid",
        "annotatedassetid",
        "orgunit",
        "orgunitpath",
        "location",
        "annotatedlocation",
        "annotateduser",
        "deviceid",
        "lastsync",
    }
)


def detect_format(header: list[str]) -> str:
    """pillarwise when any of our own columns is present, google-admin on Google's."""
    names = {norm(h) for h in header}
    if names & PILLARWISE_MARKERS:
        return PILLARWISE
    if names & GOOGLE_MARKERS:
        return GOOGLE_ADMIN
    return PILLARWISE


def format_label(fmt: str, header: list[str]) -> str:
    if fmt != GOOGLE_ADMIN:
        return fmt
    camel = any(re.search(r"[a-z][A-Z]", h) for h in header)
    return f"{fmt} ({'GAM' if camel else 'Admin console'})"


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


# --- cell values --------------------------------------------------------------------------


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


# --- where rows go -----------------------------------------------------------------------


class Schools:
    """The district's schools, matched by code or name without regard to case."""

    def __init__(self, district: District, allowed_ids: set[int] | None):
        rows = list(
            School.objects.filter(district=district).values_list(
                "pk", "code", "name", "lowest_grade", "highest_grade"
            )
        )
        self.allowed = allowed_ids
        self.by_key: dict[str, int] = {}
        for pk, _code, name, *_ in rows:
            self.by_key[name.strip().lower()] = pk
        for pk, code, *_ in rows:
            self.by_key[code.strip().lower()] = pk  # a code wins over another's name
        self.names = {pk: name for pk, _c, name, *_ in rows}
        self.spans = {pk: (low, high) for pk, _c, _n, low, high in rows}

    def match(self, text: str) -> int | None:
        return self.by_key.get(text.strip().lower())

    def may_use(self, school_id: int) -> bool:
        return self.allowed is None or school_id in self.allowed

    def explicit(self, value: str) -> int:
        """The school a cell names; Invalid when unknown or outside the user's scope."""
        school_id = self.match(value)
        if school_id is not None and self.may_use(school_id):
            return school_id
        if self.allowed is not None:
            # The same words whether the school is elsewhere or nowhere: nothing leaks.
            raise Invalid(f"{quoted(value)} is not a school you can import into")
        raise Invalid(f"no school of the district has the code or name {quoted(value)}")


def allowed_school_ids(access, district_id: int) -> set[int] | None:
    """The schools of ``district_id`` where ``access`` may import (None: all of them)."""
    if access.unrestricted:
        return None
    return {
        s
        for s in access.school_ids_with_role(*IMPORT_ROLES)
        if access.school_district.get(s) == district_id
    }


def resolve_place(
    school_code: str | None, district_slug: str | None
) -> tuple[District, School | None]:
    """The district and default school a command line names (run with scopes disabled)."""
    districts = District.objects.all()
    if district_slug:
        district = districts.filter(slug=district_slug).first()
        if district is None:
            raise ImportSetupError(f"No district has the slug {district_slug}.")
    else:
        district = None
    if school_code:
        schools = School.objects.select_related("district").filter(code__iexact=school_code)
        if district is not None:
            schools = schools.filter(district=district)
        found = list(schools[:2])
        if not found:
            raise ImportSetupError(f"No school has the code {school_code}.")
        if len(found) > 1:
            raise ImportSetupError(
                f"Several districts have a school {school_code}; add --district SLUG."
            )
        return found[0].district, found[0]
    if district is None:
        found = list(districts[:2])
        if len(found) != 1:
            raise ImportSetupError(
                "Give --district SLUG (or --school CODE): there is more than one district."
                if found
                else "There is no district yet."
            )
        district = found[0]
    return district, None


# --- the importers --------------------------------------------------------------------


def _batches(items: Iterator, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _FileChanged(Exception):
    """The second pass read something the first pass did not see."""


class _Counter:
    n = 0


class RowCheck:
    """Collects one row's problems: ``bad(field, message)``; ``bad.ok`` says if there were none."""

    def __init__(self, importer: Importer, line: int):
        self.importer, self.line, self.ok = importer, line, True

    def __call__(self, field_name: str, message: str) -> None:
        self.ok = False
        self.importer.error(self.line, self.importer.col(field_name), message)


class Importer:
    """The two-pass machinery; DeviceImporter and StudentImporter say what a row is."""

    kind = ""
    model: type | None = None  # what the import writes (the sender of ``bulk_changed``)
    columns: tuple[Column, ...] = ()

    def __init__(
        self,
        *,
        district: District,
        default_school: School | None = None,
        allowed_school_ids: set[int] | None = None,
        user=None,
        dry_run: bool = False,
        progress: Progress | None = None,
        on_phase: Callable[[str], None] | None = None,
        max_errors: int = MAX_ERRORS,
    ):
        self.district = district
        self.default_school_id = default_school.pk if default_school else None
        self.allowed_ids = allowed_school_ids
        self.user = user
        self.dry_run = dry_run
        self.progress = progress or (lambda done, total: None)
        self.on_phase = on_phase or (lambda phase: None)
        self.max_errors = max_errors
        self.result = ImportResult(kind=self.kind, dry_run=dry_run)
        self.writing = False

    # errors
    def error(self, row: int, column: str, message: str) -> None:
        if self.writing:
            raise _FileChanged
        self.result.error_count += 1
        if len(self.result.errors) < self.max_errors:
            self.result.errors.append(RowError(row, column, message))

    def col(self, field: str) -> str:
        return self.header.name(field, self.columns)

    # reading a row
    def index_cells(self) -> None:
        """Where each known column stands in the file (unknown columns are never read)."""
        i = self.header.index
        self.cells = [(f, i[f]) for f in (c.field for c in self.columns) if f in i]
        # The usual row has every cell: pick and strip them in C (itemgetter, map, zip).
        self.cell_fields = tuple(f for f, _ in self.cells)
        positions = [p for _, p in self.cells]
        self.cells_needed = max(positions, default=-1) + 1
        if len(positions) > 1:
            self.pick = itemgetter(*positions)
        else:  # itemgetter of one position returns the cell, not a tuple
            self.pick = lambda row: tuple(row[p] for p in positions)

    def row_values(self, cells: list[str]) -> dict[str, str]:
        if len(cells) >= self.cells_needed:
            return dict(zip(self.cell_fields, map(str.strip, self.pick(cells)), strict=True))
        return {f: (cells[i].strip() if i < len(cells) else "") for f, i in self.cells}

    # hooks
    def choose_columns(self, header: list[str]) -> None:
        raise NotImplementedError

    def required(self) -> list[str]:
        raise NotImplementedError

    def header_problems(self) -> list[RowError]:
        return []

    def start(self) -> None:
        """Load what every row needs (the district's schools, its device catalog)."""

    def parse(self, line: int, cells: list[str]):
        raise NotImplementedError

    def check(self, rows: list) -> None:
        raise NotImplementedError

    def before_writing(self) -> None:
        pass

    def write(self, rows: list) -> None:
        raise NotImplementedError

    def after_writing(self) -> None:
        """The set-based statements that follow the last batch (same transaction)."""

    # the run
    def run(self, source_or_binary) -> ImportResult:
        with scopes_disabled():
            self._run(as_source(source_or_binary))
        if not self.result.ok:  # nothing was written, so nothing was created or updated
            self.result.created = self.result.updated = self.result.unchanged = 0
            self.result.status_kept = 0
            self.result.models_created = []
        return self.result

    def _run(self, source: Source) -> None:
        if source.error is not None:
            self.error(source.error.row, source.error.column, source.error.message)
            return
        self.source = source
        self.result.encoding = source.encoding_name
        self.result.delimiter = source.delimiter
        records = source.records()
        try:
            first = next(records, None)
        except Unreadable as exc:
            self.error(exc.line, "", exc.message)
            return
        if first is None or not any(c.strip() for c in first[1]):
            self.error(1, "", "the file is empty; the first line must name the columns")
            return
        header = first[1]
        self.choose_columns(header)
        self.header, problems = map_header(header, self.columns)
        self.result.ignored_columns = self.header.ignored
        for field_name in self.required():
            if field_name not in self.header.index:
                label = self.col(field_name)
                problems.append(
                    RowError(1, label, f'the file has no "{label}" column (a required column)')
                )
        problems += self.header_problems()
        if problems:
            for p in problems:
                self.error(p.row, p.column, p.message)
            return
        self.start()

        total = source.data_rows
        self.on_phase("validating")
        counter = _Counter()
        try:
            for batch in _batches(self._rows(records, counter, total), LOOKUP_BATCH):
                self.check([row for row in batch if row is not None])
        except Unreadable as exc:
            self.error(exc.line, "", exc.message)
        done = self.result.rows = counter.n
        self.progress(done, done)
        if not self.result.ok or self.dry_run:
            return

        self.on_phase("writing")
        self.writing = True
        counter = _Counter()
        try:
            with transaction.atomic():
                self.before_writing()
                records = source.records()
                next(records)
                for batch in _batches(self._rows(records, counter, done), WRITE_BATCH):
                    self.write(batch)
                if counter.n != done:
                    raise _FileChanged
                self.after_writing()
                # COPY and UPDATE ... FROM send no model signals; whoever runs the import
                # (the upload page's task, the command line), readiness hears of it once.
                bulk_changed.send(sender=self.model, district_ids={self.district.pk})
        except (_FileChanged, IntegrityError, Unreadable):
            self.writing = False
            self.error(
                0,
                "",
                "the file or the inventory changed while the import was writing; "
                "nothing was written. Import the file again.",
            )
            return
        self.progress(done, done)

    def _rows(self, records, counter: _Counter, total: int) -> Iterator:
        """Parsed rows (None for a row with errors), reporting progress as they go."""
        for line, cells in records:
            if not any(c.strip() for c in cells):
                continue  # a blank line
            counter.n += 1
            if counter.n % PROGRESS_EVERY == 0:
                self.progress(counter.n, max(total, counter.n))
            if len(cells) > self.header.width:
                self.error(
                    line,
                    "",
                    f"this row has {len(cells)} cells but the header has {self.header.width}; "
                    "is a value with a comma or semicolon missing its quotes?",
                )
                yield None
                continue
            yield self.parse(line, cells)


# devices --------------------------------------------------------------------------------


class DeviceRow(NamedTuple):
    line: int
    asset_tag: str
    serial: str
    model_key: tuple[str, str]
    school_id: int | None  # the school the row names; None: not named
    school_miss: tuple[str, str] | None  # (column, value) of a place that named no school
    status: str | None
    purchase_date: date | None
    funding_source: str | None
    notes: str | None
    aue: date | None  # this device's own auto-update expiration, when the row gives one


class Existing(NamedTuple):
    pk: int
    school_id: int
    model_id: int
    serial_number: str
    maker: str
    status: str
    purchase_date: date | None
    funding_source: str
    notes: str
    aue: date | None


@dataclass
class ModelSpec:
    maker: str
    name: str
    line: int
    kind: str | None = None
    touchscreen: bool | None = None
    unit_price: Decimal | None = None
    aue: date | None = None
    set_on: dict[str, int] = field(default_factory=dict)  # attribute -> line that set it


# The cells that say which catalog entry a row is and what the row says about it.
MODEL_FIELDS = ("model", "maker", "auto_update_expiration", "kind", "touchscreen", "unit_price")


class DeviceImporter(Importer):
    kind = "devices"
    model = Device

    def __init__(self, *, fmt: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.requested_format = fmt

    def choose_columns(self, header):
        self.format = self.requested_format or detect_format(header)
        self.google = self.format == GOOGLE_ADMIN
        self.columns = GOOGLE_DEVICE_COLUMNS if self.google else PILLARWISE_DEVICE_COLUMNS
        self.result.format = format_label(self.format, header)

    def required(self):
        if self.google:
            return ["serial_number", "model"]
        needed = ["asset_tag", "serial_number", "model"]
        if self.default_school_id is None:
            needed.append("school")
        return needed

    def header_problems(self):
        index = self.header.index
        placed = "org_unit" in index or "location" in index
        if self.google and self.default_school_id is None and not placed:
            return [
                RowError(
                    1,
                    "Org Unit",
                    'the file has no "Org Unit" or "Location" column to say where each '
                    "device is; choose a school for the whole file (--school CODE)",
                )
            ]
        return []

    def start(self):
        self.schools = Schools(self.district, self.allowed_ids)
        self.models: dict[tuple[str, str], tuple[int, str, date | None]] = {}
        self.maker_spelling: dict[str, str] = {}
        for pk, maker, name, aue in DeviceModel.objects.filter(district=self.district).values_list(
            "pk", "maker", "name", "auto_update_expiration"
        ):
            self.models[(maker.lower(), name.lower())] = (pk, maker, aue)
            self.maker_spelling.setdefault(maker.lower(), maker)
        self.new_models: dict[tuple[str, str], ModelSpec] = {}
        self.model_seen: dict[tuple, tuple[str, str]] = {}
        # Per model, each auto-update date the file gives: [rows, first few row numbers].
        self.aue_seen: dict[tuple[str, str], dict[date, list]] = {}
        self.date_order = self.district.date_order
        self.tags_seen: dict[str, int] = {}
        # One string per row ("maker\x1fserial"), not a tuple: these keys are what grows.
        self.serials_seen: dict[str, int] = {}
        self.now = timezone.now()
        self.index_cells()

    # one row
    def parse(self, line, cells):
        value = self.row_values(cells)
        bad = RowCheck(self, line)

        serial = value.get("serial_number", "")
        asset_tag = value.get("asset_tag", "") or (serial if self.google else "")
        if not serial:
            bad("serial_number", "is blank; every device needs its serial number")
        elif len(serial) > 100:
            bad("serial_number", f"{quoted(serial)} is longer than 100 characters")
        if not asset_tag:
            bad("asset_tag", "is blank; every device needs an asset tag")
        elif len(asset_tag) > 64:
            bad("asset_tag", f"{quoted(asset_tag)} is longer than 64 characters")

        cells_of_model = tuple(map(value.get, MODEL_FIELDS))
        model_key = self.model_seen.get(cells_of_model)
        if model_key is None:
            errors_before = self.result.error_count
            model_key = self._model(line, value, bad)
            if self.result.error_count == errors_before and len(self.model_seen) < CACHED_VALUES:
                # The same cells again name the same entry and agree with it: nothing to note.
                self.model_seen[cells_of_model] = model_key
        school_id, school_miss = self._school(value, bad)

        status = None
        if raw := value.get("status"):
            if self.google:
                status = GOOGLE_STATUSES.get(norm(raw))
                if status is None:
                    words = "ACTIVE, PROVISIONED, DISABLED, DEPROVISIONED"
                    bad("status", f"{quoted(raw)} is not a Google device status ({words}, …)")
            else:
                try:
                    status = parse_choice(raw, STATUSES, "device status")
                except Invalid as exc:
                    bad("status", str(exc))
                if status == DeviceStatus.ASSIGNED:
                    status = None
                    bad(
                        "status",
                        '"assigned" cannot be imported: check the device out to a student, '
                        "which records who has it",
                    )

        aue = None
        if raw := value.get("auto_update_expiration"):
            try:
                aue = parse_month_or_date(raw, self.date_order)
            except Invalid as exc:
                bad("auto_update_expiration", str(exc))
            else:
                if model_key is not None and not self.writing:
                    self._note_aue(line, model_key, aue)
        purchase_date = funding = None
        if raw := value.get("purchase_date"):
            try:
                purchase_date = parse_date(raw, self.date_order)
            except Invalid as exc:
                bad("purchase_date", str(exc))
        if raw := value.get("funding_source"):
            try:
                funding = parse_choice(raw, FUNDING, "funding source")
            except Invalid as exc:
                bad("funding_source", str(exc))
        notes = value.get("notes") or None

        if (
            bad.ok
            and not self.writing
            and not self._unique_in_file(line, asset_tag, serial, model_key)
        ):
            return None
        if not bad.ok:
            return None
        return DeviceRow(
            line,
            asset_tag,
            serial,
            model_key,
            school_id,
            school_miss,
            status,
            purchase_date,
            funding,
            notes,
            aue,
        )

    def _model(self, line, value, bad) -> tuple[str, str] | None:
        text = " ".join(value.get("model", "").split())
        if not text:
            bad("model", "is blank; every device needs its model")
            return None
        maker = " ".join(value.get("maker", "").split())
        first, _, rest = text.partition(" ")
        if not maker:
            maker, name = first, (rest or text)
        elif text.lower().startswith(maker.lower() + " "):
            name = text[len(maker) + 1 :]
        else:
            name = text
        if len(maker) > 100 or len(name) > 200:
            bad("model", f"{quoted(text)} is too long for a maker and model name")
            return None
        maker = self.maker_spelling.get(maker.lower(), maker)
        key = (maker.lower(), name.lower())

        attrs: dict[str, object] = {}
        if raw := value.get("kind"):
            try:
                attrs["kind"] = parse_choice(raw, KINDS, "device kind")
            except Invalid as exc:
                bad("kind", str(exc))
        if raw := value.get("touchscreen"):
            try:
                attrs["touchscreen"] = parse_bool(raw)
            except Invalid as exc:
                bad("touchscreen", str(exc))
        if raw := value.get("unit_price"):
            try:
                attrs["unit_price"] = parse_price(raw, self.source.delimiter)
            except Invalid as exc:
                bad("unit_price", str(exc))
        if not self.writing:
            self._note_model(line, key, maker, name, attrs, bad)
        return key

    def _note_aue(self, line, key, aue: date) -> None:
        """Count a row's auto-update date for its model (first pass only). Rows of one model
        may disagree (Google reports a date per device): each device keeps its own, and
        ``aue_disagreements`` tells the user where."""
        seen = self.aue_seen.setdefault(key, {}).setdefault(aue, [0, []])
        seen[0] += 1
        if len(seen[1]) < AUE_SAMPLE_ROWS:
            seen[1].append(line)

    def model_aue(self, key) -> date | None:
        """The date the catalog keeps for a model the file dates: the most common one (the
        earliest of equals), which devices without a date of their own follow."""
        dates = self.aue_seen.get(key)
        if not dates:
            return None
        return min(dates, key=lambda d: (-dates[d][0], d))

    def aue_disagreements(self) -> list[str]:
        lines = []
        for key, dates in self.aue_seen.items():
            if len(dates) < 2:
                continue
            maker = self.maker_of(key)
            name = self.new_models[key].name if key in self.new_models else key[1]
            parts = []
            for day_, (count, rows) in sorted(dates.items()):
                where = ", ".join(map(str, rows)) + (", …" if count > len(rows) else "")
                plural = "row" if count == 1 else "rows"
                parts.append(f"{date_format(day_)} on {count:,} {plural} ({where})")
            lines.append(
                f"{maker} {name}: the file gives {len(dates)} auto-update expiration dates, "
                + "; ".join(parts)
                + ". Each device keeps its own date; the catalog keeps "
                + f"{date_format(self.model_aue(key))}, the most common."
            )
        return sorted(lines)

    def _note_model(self, line, key, maker, name, attrs, bad) -> None:
        """Record the catalog entry a row uses (first pass only)."""
        if key in self.models:
            return  # the catalog keeps its kind, touchscreen and price
        spec = self.new_models.get(key)
        if spec is None:
            spec = self.new_models[key] = ModelSpec(maker=maker, name=name, line=line)
            self.maker_spelling.setdefault(maker.lower(), maker)
        if self.google:
            spec.kind = DeviceKind.CHROMEBOOK
        for attr, new in attrs.items():
            old = getattr(spec, attr)
            if old is None:
                setattr(spec, attr, new)
                spec.set_on[attr] = line
            elif old != new:
                bad(
                    attr,
                    f"{spec.maker} {spec.name} is given a different {attr.replace('_', ' ')} "
                    f"on row {spec.set_on[attr]}",
                )

    def _school(self, value, bad) -> tuple[int | None, tuple[str, str] | None]:
        if not self.google:
            raw = value.get("school")
            if not raw:
                return None, None
            try:
                return self.schools.explicit(raw), None
            except Invalid as exc:
                bad("school", str(exc))
                return None, None
        miss = None
        for field_name in ("org_unit", "location"):
            raw = value.get(field_name)
            if not raw:
                continue
            if field_name == "org_unit":
                candidates = [s for s in reversed(raw.split("/")) if s.strip()]
            else:
                candidates = [raw]
            for candidate in candidates:
                school_id = self.schools.match(candidate)
                if school_id is None:
                    continue
                if not self.schools.may_use(school_id):
                    bad(field_name, f"{quoted(candidate)} is not a school you can import into")
                return school_id, None
            miss = miss or (self.col(field_name), raw)
        return None, miss

    def _unique_in_file(self, line, asset_tag, serial, model_key) -> bool:
        ok = True
        earlier = self.tags_seen.setdefault(asset_tag, line)
        if earlier != line:
            self.error(line, self.col("asset_tag"), f"{quoted(asset_tag)} is also on row {earlier}")
            ok = False
        if model_key is not None:
            earlier = self.serials_seen.setdefault(f"{model_key[0]}\x1f{serial}", line)
            if earlier != line:
                self.error(
                    line,
                    self.col("serial_number"),
                    f"{quoted(serial)} is also on row {earlier} (serials are unique per maker)",
                )
                ok = False
        return ok

    # batches
    def maker_of(self, key) -> str:
        if key in self.models:
            return self.models[key][1]
        return self.new_models[key].maker

    def _existing(self, rows: list[DeviceRow]) -> dict[str, Existing]:
        where, params = fastwrite.among("asset_tag", [r.asset_tag for r in rows])
        found = fastwrite.fetch(
            "SELECT asset_tag, id, school_id, model_id, serial_number, maker, status, "  # noqa: S608
            "purchase_date, funding_source, notes, auto_update_expiration FROM equity_device "
            f"WHERE district_id = %s AND {where}",
            [self.district.pk, *params],
        )
        return {tag: Existing(*rest) for tag, *rest in found}

    def _changes(self, row: DeviceRow, ex: Existing) -> dict[str, object]:
        changes: dict[str, object] = {}
        model = self.models.get(row.model_key)
        if model is None or model[0] != ex.model_id:
            changes["model"] = row.model_key
        if row.serial != ex.serial_number:
            changes["serial_number"] = row.serial
        if row.school_id is not None and row.school_id != ex.school_id:
            changes["school"] = row.school_id
        if row.purchase_date is not None and row.purchase_date != ex.purchase_date:
            changes["purchase_date"] = row.purchase_date
        if row.funding_source is not None and row.funding_source != ex.funding_source:
            changes["funding_source"] = row.funding_source
        if row.notes is not None and row.notes != ex.notes:
            changes["notes"] = row.notes
        if row.aue is not None and row.aue != ex.aue:
            changes["auto_update_expiration"] = row.aue
        return changes

    def check(self, rows):
        if not rows:
            return
        existing = self._existing(rows)
        where, params = fastwrite.among("serial_number", list({r.serial for r in rows}))
        holders: dict[tuple[str, str], str] = {
            (maker.lower(), serial): tag
            for serial, maker, tag in fastwrite.fetch(
                "SELECT serial_number, maker, asset_tag FROM equity_device "  # noqa: S608
                f"WHERE district_id = %s AND {where}",
                [self.district.pk, *params],
            )
        }
        result = self.result
        for row in rows:
            holder = holders.get((self.maker_of(row.model_key).lower(), row.serial))
            if holder is not None and holder != row.asset_tag:
                self.error(
                    row.line,
                    self.col("serial_number"),
                    f"{quoted(row.serial)} is already used by another device in the district",
                )
                continue
            ex = existing.get(row.asset_tag)
            if ex is None:
                if row.school_id is None and self.default_school_id is None:
                    self._no_school(row)
                    continue
                result.created += 1
                continue
            if not self.schools.may_use(ex.school_id):
                self.error(
                    row.line,
                    self.col("asset_tag"),
                    f"{quoted(row.asset_tag)} is already used by another device in the district",
                )
                continue
            changes = self._changes(row, ex)
            if "school" in changes and ex.status == DeviceStatus.ASSIGNED:
                column = self.col("school")
                if self.google:
                    column = self.col("org_unit" if "org_unit" in self.header.index else "location")
                self.error(
                    row.line,
                    column,
                    f"{row.asset_tag} is checked out; check it in before moving it",
                )
                continue
            if row.status is not None and row.status != ex.status:
                result.status_kept += 1
            if changes:
                result.updated += 1
            else:
                result.unchanged += 1
        result.models_created = sorted(f"{s.maker} {s.name}" for s in self.new_models.values())
        result.aue_disagreements = self.aue_disagreements()

    def _no_school(self, row: DeviceRow) -> None:
        if row.school_miss is not None:
            column, value = row.school_miss
            self.error(
                row.line,
                column,
                f"{quoted(value)} names no school of the district (by code or name); "
                "choose a school for rows like this one (--school CODE)",
            )
        else:
            self.error(
                row.line,
                self.col("school"),
                "is blank; a new device needs a school (or choose one with --school CODE)",
            )

    def before_writing(self):
        for key, spec in self.new_models.items():
            model = DeviceModel.objects.create(
                district=self.district,
                maker=spec.maker,
                name=spec.name,
                kind=spec.kind or DeviceKind.CHROMEBOOK,
                touchscreen=bool(spec.touchscreen),
                unit_price=spec.unit_price,
                auto_update_expiration=self.model_aue(key),
            )
            self.models[key] = (model.pk, model.maker, model.auto_update_expiration)
        for key in self.aue_seen:
            pk, _maker, current = self.models[key]
            aue = self.model_aue(key)
            if current != aue:
                DeviceModel._base_manager.filter(pk=pk).update(auto_update_expiration=aue)
        self.school_names = self.schools.names
        self.now_text = self.now.isoformat()
        self.updates = fastwrite.ChangeTable(*DEVICE_CHANGES)
        self.updates.create()

    def write(self, rows):
        """One batch: new devices and their history through COPY, changes to the temp table.

        The new devices get their ids from the table's sequence first (``reserve_ids``), so
        their "Added to inventory" events are written in the same pass. Changed devices are
        collected in a temporary table and written by one ``UPDATE ... FROM`` at the end.
        """
        if any(row is None for row in rows):
            raise _FileChanged
        existing = self._existing(rows)
        new = [row for row in rows if row.asset_tag not in existing]
        ids = iter(reserve_ids(Device, len(new)))
        devices, events, changed = [], [], []
        now, by_id = self.now, self.user.pk if self.user is not None else None
        district_id, default_school = self.district.pk, self.default_school_id
        models, school_names = self.models, self.school_names
        for row in rows:
            model_id, maker, _aue = models[row.model_key]
            ex = existing.get(row.asset_tag)
            if ex is None:
                pk, school_id = next(ids), row.school_id or default_school
                devices.append(
                    (
                        pk,
                        district_id,
                        school_id,
                        model_id,
                        maker,
                        row.asset_tag,
                        row.serial,
                        row.status or DeviceStatus.IN_STOCK,
                        row.purchase_date,
                        row.funding_source or "",
                        row.notes or "",
                        row.aue,
                        now,
                        now,
                    )
                )
                events.append((pk, CREATED, now, by_id, school_id, None, "", "", ""))
                continue
            changes = self._changes(row, ex)
            if not changes:
                continue
            school_id = changes.get("school", ex.school_id)
            changed.append(
                (
                    ex.pk,
                    model_id,
                    maker,
                    row.serial,
                    school_id,
                    changes.get("purchase_date", ex.purchase_date),
                    changes.get("funding_source", ex.funding_source),
                    changes.get("notes", ex.notes),
                    changes.get("auto_update_expiration", ex.aue),
                )
            )
            if school_id != ex.school_id:
                note = f"to {school_names[school_id]} (import)"
                events.append((ex.pk, MOVED, now, by_id, ex.school_id, None, "", "", note))
                events.append((ex.pk, ARRIVED, now, by_id, school_id, None, "", "", ""))
        stamp = self.now_text
        fastwrite.write_rows(
            Device,
            DEVICE_COPY_FIELDS,
            devices,
            lambda r: (
                f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{text(r[4])}\t{text(r[5])}\t{text(r[6])}"
                f"\t{r[7]}\t{day(r[8])}\t{r[9]}\t{text(r[10])}\t{day(r[11])}\t{stamp}\t{stamp}\n"
            ),
        )
        self.updates.add(changed)
        fastwrite.write_rows(
            DeviceEvent,
            EVENT_COPY_FIELDS,
            events,
            lambda r: f"{r[0]}\t{r[1]}\t{stamp}\t{number(r[3])}\t{r[4]}\t\\N\t\t\t{text(r[8])}\n",
        )

    def after_writing(self):
        self.updates.apply(self.now)


CREATED, MOVED, ARRIVED = str(EventKind.CREATED), str(EventKind.MOVED), str(EventKind.ARRIVED)
# The columns the importer writes. copy_rows applies no Django default, so every NOT NULL
# column is here (created_at / updated_at are the import's start, as the events' time).
DEVICE_COPY_FIELDS = [
    "id",
    "district",
    "school",
    "model",
    "maker",
    "asset_tag",
    "serial_number",
    "status",
    "purchase_date",
    "funding_source",
    "notes",
    "auto_update_expiration",
    "created_at",
    "updated_at",
]
EVENT_COPY_FIELDS = [
    "device",
    "kind",
    "at",
    "by",
    "school",
    "student",
    "circumstance",
    "place",
    "note",
]


DEVICE_CHANGES = (
    Device,
    (
        ("id", "bigint PRIMARY KEY"),
        ("model_id", "bigint NOT NULL"),
        ("maker", "varchar(100) NOT NULL"),
        ("serial_number", "varchar(100) NOT NULL"),
        ("school_id", "bigint NOT NULL"),
        ("purchase_date", "date NULL"),
        ("funding_source", "varchar(20) NOT NULL"),
        ("notes", "text NOT NULL"),
        ("auto_update_expiration", "date NULL"),
    ),
    lambda r: (
        f"{r[0]}\t{r[1]}\t{text(r[2])}\t{text(r[3])}\t{r[4]}\t{day(r[5])}\t{r[6]}\t{text(r[7])}"
        f"\t{day(r[8])}\n"
    ),
)


# students ------------------------------------------------------------------------------


class StudentRow(NamedTuple):
    line: int
    local_id: str
    school_id: int | None
    grade: int
    needs_touch: bool | None
    home_internet: str | None


class ExistingStudent(NamedTuple):
    pk: int
    school_id: int
    grade: int
    needs_touch: bool
    home_internet: str
    active: bool


class StudentImporter(Importer):
    kind = "students"
    model = Student
    columns = STUDENT_COLUMNS

    def choose_columns(self, header):
        self.result.format = PILLARWISE

    def required(self):
        needed = ["local_id", "grade"]
        if self.default_school_id is None:
            needed.append("school")
        return needed

    def start(self):
        self.schools = Schools(self.district, self.allowed_ids)
        self.ids_seen: dict[str, int] = {}
        self.index_cells()

    def parse(self, line, cells):
        value = self.row_values(cells)
        bad = RowCheck(self, line)

        local_id = value.get("local_id", "")
        if not local_id:
            bad("local_id", "is blank; every student needs their local student ID")
        elif len(local_id) > 40:
            bad("local_id", f"{quoted(local_id)} is longer than 40 characters")
        school_id = None
        if raw := value.get("school"):
            try:
                school_id = self.schools.explicit(raw)
            except Invalid as exc:
                bad("school", str(exc))
        grade = None
        raw = value.get("grade", "")
        if not raw:
            bad("grade", "is blank; give PK, K or 1–12")
        else:
            try:
                grade = parse_grade(raw)
            except Invalid as exc:
                bad("grade", str(exc))
        needs_touch = home_internet = None
        if raw := value.get("needs_touch"):
            try:
                needs_touch = parse_bool(raw)
            except Invalid as exc:
                bad("needs_touch", str(exc))
        if raw := value.get("home_internet"):
            try:
                home_internet = parse_choice(raw, HOME_INTERNET, "home internet answer")
            except Invalid as exc:
                bad("home_internet", str(exc))
        if bad.ok and not self.writing:
            earlier = self.ids_seen.setdefault(local_id, line)
            if earlier != line:
                bad("local_id", f"{quoted(local_id)} is also on row {earlier}")
        if not bad.ok:
            return None
        return StudentRow(line, local_id, school_id, grade, needs_touch, home_internet)

    def _existing(self, rows) -> dict[str, ExistingStudent]:
        found = Student._base_manager.filter(
            district=self.district, local_id__in=[r.local_id for r in rows]
        ).values_list("local_id", *ExistingStudent._fields)
        return {local_id: ExistingStudent(*rest) for local_id, *rest in found}

    def _target(self, row: StudentRow, ex: ExistingStudent | None) -> ExistingStudent:
        """The student as the row leaves them (blank cells keep what was there)."""
        if ex is None:
            return ExistingStudent(
                0,
                row.school_id or self.default_school_id,
                row.grade,
                bool(row.needs_touch),
                row.home_internet or HomeInternet.UNKNOWN,
                True,
            )
        return ExistingStudent(
            ex.pk,
            row.school_id or ex.school_id,
            row.grade,
            ex.needs_touch if row.needs_touch is None else row.needs_touch,
            row.home_internet or ex.home_internet,
            True,
        )

    def check(self, rows):
        if not rows:
            return
        existing = self._existing(rows)
        for row in rows:
            ex = existing.get(row.local_id)
            if ex is not None and not self.schools.may_use(ex.school_id):
                self.error(
                    row.line,
                    self.col("local_id"),
                    f"{quoted(row.local_id)} is already used in the district",
                )
                continue
            if ex is None and row.school_id is None and self.default_school_id is None:
                self.error(
                    row.line,
                    self.col("school"),
                    "is blank; a new student needs a school (or choose one with --school CODE)",
                )
                continue
            target = self._target(row, ex)
            low, high = self.schools.spans[target.school_id]
            if not low <= target.grade <= high:
                name = self.schools.names[target.school_id]
                span = f"{grade_label(low)}–{grade_label(high)}"
                self.error(
                    row.line,
                    self.col("grade"),
                    f"grade {grade_label(target.grade)} is not taught at {name} ({span})",
                )
                continue
            if ex is None:
                self.result.created += 1
            elif target != ex:
                self.result.updated += 1
            else:
                self.result.unchanged += 1

    def before_writing(self):
        self.now = timezone.now()
        self.stamp = self.now.isoformat()
        self.updates = fastwrite.ChangeTable(*STUDENT_CHANGES)
        self.updates.create()

    def write(self, rows):
        """New students through COPY; changed ones to the temp table (one UPDATE at the end)."""
        if any(row is None for row in rows):
            raise _FileChanged
        existing = self._existing(rows)
        new = [row for row in rows if row.local_id not in existing]
        ids = iter(reserve_ids(Student, len(new)))
        created, changed = [], []
        district_id, now = self.district.pk, self.now
        for row in rows:
            ex = existing.get(row.local_id)
            target = self._target(row, ex)
            if ex is None:
                created.append(
                    (
                        next(ids),
                        district_id,
                        target.school_id,
                        row.local_id,
                        target.grade,
                        target.needs_touch,
                        target.home_internet,
                        "",
                        False,
                        True,
                        None,
                        "",
                        now,
                        now,
                    )
                )
            elif target != ex:
                changed.append(target._replace(pk=ex.pk)[:5])
        stamp = self.stamp
        fastwrite.write_rows(
            Student,
            STUDENT_COPY_FIELDS,
            created,
            lambda r: (
                f"{r[0]}\t{r[1]}\t{r[2]}\t{text(r[3])}\t{r[4]}\t{'t' if r[5] else 'f'}"
                f"\t{r[6]}\t\tf\tt\t\\N\t\t{stamp}\t{stamp}\n"
            ),
        )
        self.updates.add(changed)

    def after_writing(self):
        self.updates.apply(self.now, active=True)


STUDENT_CHANGES = (
    Student,
    (
        ("id", "bigint PRIMARY KEY"),
        ("school_id", "bigint NOT NULL"),
        ("grade", "smallint NOT NULL"),
        ("needs_touch", "boolean NOT NULL"),
        ("home_internet", "varchar(10) NOT NULL"),
    ),
    lambda r: f"{r[0]}\t{r[1]}\t{r[2]}\t{'t' if r[3] else 'f'}\t{r[4]}\n",
)


def import_devices(source_or_binary, *, fmt: str | None = None, **kwargs) -> ImportResult:
    """Import a device list. See DeviceImporter / Importer for the keyword arguments."""
    return DeviceImporter(fmt=fmt, **kwargs).run(source_or_binary)


def import_students(source_or_binary, **kwargs) -> ImportResult:
    """Import a student roster (local ID, school, grade, flags; never names)."""
    return StudentImporter(**kwargs).run(source_or_binary)
