"""CSV imports of devices and students: check every row, then write all of it or nothing.

Used by ``manage.py import_devices`` / ``import_students``, the upload pages and the
``run_import`` task. The rules for users are in docs/imports.md; the shape is:

1. ``readers.Source`` reads the file as text whatever its encoding and delimiter, and the
   header row picks the format (when not given) and maps the columns; a required column
   that is missing is one error.
2. First pass: every row is parsed and checked. What the database must answer (asset
   tags, serials and student IDs already used anywhere in the district) is asked once per
   batch of ``LOOKUP_BATCH`` rows with set-based queries. Only compact keys stay in memory
   (for duplicates inside the file); rows are dropped after their batch.
3. Any error: nothing is written. Otherwise (and not a dry run) a second pass re-reads the
   file inside one ``transaction.atomic`` and writes it per batch of ``WRITE_BATCH`` rows
   through the inventory's bulk services (``equity.inventory.bulk``: COPY for new records
   and their history, a temporary table and one ``UPDATE ... FROM`` for changed ones).

An importer may instead stage (``use_staging``: the device importer on PostgreSQL): each
batch's parsed rows go to a temporary table (``stage``), every check that needs the whole
file or the database is one statement after the pass (``check_staged``, whose errors merge
into the row errors in the same order), and the writes are set-based statements per part
of ``STAGED_PART`` rows (``write_part``) in the one transaction. No key of the file stays
in Python, and the file is read once.

This module is the machinery both importers share (``Importer``); ``devices.py`` and
``students.py`` say what a row is. Everything runs with scopes disabled, because uniqueness
is district-wide; callers acting for a user pass ``allowed_school_ids`` and the importer
refuses rows that would touch any other school, answering only "already used in the
district" about what it found there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter

from django.db import IntegrityError, transaction

from schools.models import District, School
from schools.scoping import outside_scope
from schools.signals import evidence_changed

from .readers import Column, Invalid, RowError, Source, Unreadable, as_source, map_header, quoted

LOOKUP_BATCH = 5000  # rows per existence query


WRITE_BATCH = 5000  # rows per write batch: one lookup of existing records, one COPY each


# Rows per part of a staged write (PostgreSQL): each part's devices pass through Python as
# COPY text once, so this bounds what the writing holds (about 1 KB a row at its peak).
STAGED_PART = 1000


PROGRESS_EVERY = 1000  # rows between progress callbacks


MAX_ERRORS = 1000  # errors kept (all are counted)


Progress = Callable[[int, int], None]


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
    model: type | None = None  # what the import writes (the sender of ``evidence_changed``)
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
        self.staged = False  # checked and written in the database (``use_staging``)
        # Where each kept error stands in the order errors are reported: (batch, 0, row)
        # for what a row's own cells say; a staged check's errors merge in by these keys.
        self.error_keys: list[tuple] = []
        self.batch = 0

    # errors
    def error(self, row: int, column: str, message: str) -> None:
        if self.writing:
            raise _FileChanged
        self.result.error_count += 1
        if len(self.result.errors) < self.max_errors:
            self.result.errors.append(RowError(row, column, message))
            self.error_keys.append((self.batch, 0, row))

    def merge_errors(self, found: list[tuple[tuple, RowError]], count: int) -> None:
        """Add ``count`` errors found set-based, of which ``found`` are the first (each with
        its key), in the order the row-by-row path reports them: per batch, the rows' own
        errors with the duplicates in the file, then what the database refuses."""
        pairs = sorted(
            [*zip(self.error_keys, self.result.errors, strict=True), *found],
            key=lambda pair: pair[0],
        )[: self.max_errors]
        self.error_keys = [key for key, _ in pairs]
        self.result.errors = [error for _, error in pairs]
        self.result.error_count += count

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

    def use_staging(self) -> bool:
        """Whether the rows go to a temporary table to be checked and written set-based in
        the database (``stage``, ``check_staged``, ``write_part``) rather than checked per
        batch and read again for writing (``check``, ``write``)."""
        return False

    def stage(self, rows: list, batch: int) -> None:
        """Put a batch's parsed rows (the ``batch``-th of ``LOOKUP_BATCH``) in the database."""
        raise NotImplementedError

    def check_staged(self, batches: int) -> None:
        """Check every staged row; rows of batches past ``batches`` only within the file."""
        raise NotImplementedError

    def write_part(self, part: int) -> None:
        """Write the staged rows of the ``part``-th ``STAGED_PART`` rows of the file."""
        raise NotImplementedError

    def staging_idle(self) -> None:
        """Wait until no staged batch is still being stored (``stage`` may return before
        its rows are in), before anything else uses the database connection."""

    def end_staging(self) -> None:
        """Drop what staging created (always called, whatever happened)."""

    def before_writing(self) -> None:
        pass

    def write(self, rows: list) -> None:
        raise NotImplementedError

    def after_writing(self) -> None:
        """The set-based statements that follow the last batch (same transaction)."""

    # the run
    def run(self, source_or_binary) -> ImportResult:
        with outside_scope():
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
        self.staged = self.use_staging()
        try:
            self._check_and_write(source, records)
        finally:
            if self.staged:
                self.end_staging()

    def _check_and_write(self, source: Source, records) -> None:
        total = source.data_rows
        self.on_phase("validating")
        counter = _Counter()
        batches = 0
        try:
            for batch in _batches(self._rows(records, counter, total), LOOKUP_BATCH):
                rows = [row for row in batch if row is not None]
                if self.staged:
                    self.stage(rows, batches)
                else:
                    self.check(rows)
                batches += 1
        except Unreadable as exc:
            self.error(exc.line, "", exc.message)
        if self.staged:
            self.check_staged(batches)
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
                if self.staged:
                    written = 0
                    for part in range(-(-done // STAGED_PART)):
                        self.write_part(part)
                        now_written = min(done, written + STAGED_PART)
                        # The thousands of rows this part took the count past, as read.
                        first = (written // PROGRESS_EVERY + 1) * PROGRESS_EVERY
                        for mark in range(first, now_written + 1, PROGRESS_EVERY):
                            self.progress(mark, done)
                        written = now_written
                else:
                    records = source.records()
                    next(records)
                    for batch in _batches(self._rows(records, counter, done), WRITE_BATCH):
                        self.write(batch)
                    if counter.n != done:
                        raise _FileChanged
                self.after_writing()
                # Whoever runs the import (the upload page's task, the command line),
                # readiness hears of it once.
                evidence_changed.send(sender=self.model, district_ids={self.district.pk})
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
            self.batch = (counter.n - 1) // LOOKUP_BATCH
            if counter.n % PROGRESS_EVERY == 0:
                if self.staged:
                    self.staging_idle()  # the callback may use the database
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
