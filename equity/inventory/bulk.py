"""The inventory's set-based writes: many devices or students at once, by the same rules
as the one-record services (``services.py``), at COPY speed.

The importers (``equity.imports``) check a whole file first and then call these, batch by
batch, inside their one transaction; a later roster or device sync would call them too.
What a row becomes lives here, once:

- a new device starts in stock unless told otherwise, and gets an "Added to inventory"
  event; a device that changes school gets the leaving event (seen by the school it left)
  and the arrival (seen by the new one), as ``services.devices_move`` writes them; a
  checked-out device may not change school (``services.device_move_refusal``);
- a row's blank cells keep what the record had; a new student is enrolled (active), with
  no touchscreen need and an unknown home internet unless the row says so
  (``student_target``).

Reads are set-based (``devices_existing``, ``device_serial_holders``,
``students_existing``: one query per batch), and so are writes: new rows through COPY
(``fastwrite.write_rows``, ids reserved first so their events go in the same pass),
changed rows gathered in a temporary table and written by one ``UPDATE ... FROM`` at
``finish()``. The writers must run inside a transaction (the temporary table lives in it,
and a failure must leave nothing); they refuse to start outside one.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from schools.bulk import reserve_ids
from schools.signals import evidence_changed

from . import fastwrite
from .fastwrite import STUDENT_COPY_FIELDS, day, number, text
from .models import Device, DeviceEvent, DeviceStatus, EventKind, HomeInternet, Student

CREATED, MOVED, ARRIVED = str(EventKind.CREATED), str(EventKind.MOVED), str(EventKind.ARRIVED)


def _in_transaction(what: str) -> None:
    if not connection.in_atomic_block:
        msg = f"{what} writes in several statements: call it inside transaction.atomic"
        raise RuntimeError(msg)


# --- devices -----------------------------------------------------------------------------


class ExistingDevice(NamedTuple):
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


class DeviceUpsert(NamedTuple):
    """One device as a bulk write leaves it. ``None`` keeps what an existing device has
    (``school_id``, ``purchase_date``, ``funding_source``, ``notes``, ``aue``); ``status``
    applies to a new device only (a status changes on the device's page, which records
    it)."""

    asset_tag: str
    serial: str
    model_id: int | None  # None: a catalog entry not created yet (a check before writing)
    maker: str
    school_id: int | None
    status: str | None
    purchase_date: date | None
    funding_source: str | None
    notes: str | None
    aue: date | None


def devices_existing(district_id: int, asset_tags: list[str]) -> dict[str, ExistingDevice]:
    """The district's devices with these asset tags, in any school (one query)."""
    where, params = fastwrite.among("asset_tag", asset_tags)
    found = fastwrite.fetch(
        "SELECT asset_tag, id, school_id, model_id, serial_number, maker, status, "  # noqa: S608
        "purchase_date, funding_source, notes, auto_update_expiration FROM equity_device "
        f"WHERE district_id = %s AND {where}",
        [district_id, *params],
    )
    return {tag: ExistingDevice(*rest) for tag, *rest in found}


def device_serial_holders(district_id: int, serials: list[str]) -> dict[tuple[str, str], str]:
    """(maker in lower case, serial) -> the asset tag of the district's device holding it.
    On PostgreSQL read through the upper-case serial index (the inventory's search), the
    one index on serials besides the unique one, which leads with the maker."""
    where, params = fastwrite.among("serial_number", serials)
    if connection.vendor == "postgresql":
        upper = "UPPER(serial_number::text) IN (SELECT UPPER(x) FROM unnest(%s) x)"
        where = f"{upper} AND {where}"
        params = [serials, *params]
    return {
        (maker.lower(), serial): tag
        for serial, maker, tag in fastwrite.fetch(
            "SELECT serial_number, maker, asset_tag FROM equity_device "  # noqa: S608
            f"WHERE district_id = %s AND {where}",
            [district_id, *params],
        )
    }


def device_changes(row: DeviceUpsert, ex: ExistingDevice, model_id: int | None) -> dict:
    """What writing ``row`` (with catalog entry ``model_id``; None: one not created yet)
    would change on the existing device (blank cells keep)."""
    changes: dict[str, object] = {}
    if model_id is None or model_id != ex.model_id:
        changes["model"] = model_id
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


# The columns written. copy_rows applies no Django default, so every NOT NULL column is
# here (created_at / updated_at are the write's start, as the events' time).
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


def _model_of(row: DeviceUpsert) -> tuple[int | None, str]:
    return row.model_id, row.maker


class DevicesBulkUpsert:
    """Create or update a district's devices, batch by batch, in the caller's transaction:
    ``begin()``, ``write(rows)`` per batch, ``finish()``.

    A row whose asset tag the district has is an update, otherwise a new device (in
    ``school_id``, or ``default_school_id``). Rows must have been checked (uniqueness,
    ``device_move_refusal``, a school for new devices) and their catalog entries created.
    ``school_names`` names the schools for the "moved" events; ``note_suffix`` ends them
    (" (import)").
    """

    def __init__(
        self,
        *,
        district_id: int,
        by_id: int | None,
        now,
        school_names: dict[int, str],
        default_school_id: int | None = None,
        note_suffix: str = "",
    ):
        self.district_id, self.by_id, self.now = district_id, by_id, now
        self.school_names, self.default_school_id = school_names, default_school_id
        self.note_suffix = note_suffix
        self.stamp = now.isoformat()

    def begin(self) -> None:
        _in_transaction("DevicesBulkUpsert")
        self.updates = fastwrite.ChangeTable(*DEVICE_CHANGES)
        self.updates.create()

    def write(self, rows: list[DeviceUpsert], model_of=None) -> None:
        """One batch: new devices and their history through COPY, changes to the temp table.

        The new devices get their ids from the table's sequence first (``reserve_ids``), so
        their "Added to inventory" events are written in the same pass. ``rows`` may be any
        tuples with DeviceUpsert's names but for the model: ``model_of(row)`` gives its
        (model id, maker) (the importer's rows name a catalog key; no copy per row)."""
        model_of = model_of or _model_of
        existing = devices_existing(self.district_id, [r.asset_tag for r in rows])
        new = [row for row in rows if row.asset_tag not in existing]
        ids = iter(reserve_ids(Device, len(new)))
        devices, events, changed = [], [], []
        now, by_id = self.now, self.by_id
        district_id, default_school = self.district_id, self.default_school_id
        school_names, suffix = self.school_names, self.note_suffix
        for row in rows:
            model_id, maker = model_of(row)
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
            changes = device_changes(row, ex, model_id)
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
                # As devices_move: the leaving, seen by the school it left, and the arrival.
                note = f"to {school_names[school_id]}{suffix}"
                events.append((ex.pk, MOVED, now, by_id, ex.school_id, None, "", "", note))
                events.append((ex.pk, ARRIVED, now, by_id, school_id, None, "", "", ""))
        stamp = self.stamp
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

    def finish(self) -> None:
        """The one UPDATE of every changed device (same transaction)."""
        self.updates.apply(self.now)


def _school_names(district_id: int) -> dict[int, str]:
    return dict(
        fastwrite.fetch("SELECT id, name FROM schools_school WHERE district_id = %s", [district_id])
    )


@transaction.atomic
def devices_bulk_upsert(
    rows: list[DeviceUpsert], *, district, by=None, default_school=None, note_suffix: str = ""
) -> None:
    """Write checked rows in one go (one transaction), and announce it once: set-based
    writes send no model signals. A caller that streams batches (the importer) uses
    ``DevicesBulkUpsert`` and announces once at its end."""
    writer = DevicesBulkUpsert(
        district_id=district.pk,
        by_id=getattr(by, "pk", None),
        now=timezone.now(),
        school_names=_school_names(district.pk),
        default_school_id=getattr(default_school, "pk", None),
        note_suffix=note_suffix,
    )
    writer.begin()
    writer.write(rows)
    writer.finish()
    evidence_changed.send(sender=Device, district_ids={district.pk})


# --- students ----------------------------------------------------------------------------


class ExistingStudent(NamedTuple):
    pk: int
    school_id: int
    grade: int
    needs_touch: bool
    home_internet: str
    active: bool


class StudentUpsert(NamedTuple):
    """One student as a roster row gives them; None keeps what the record has (a new
    student: ``student_target``'s defaults)."""

    local_id: str
    school_id: int | None  # None: where they are (a new student: the default school)
    grade: int
    needs_touch: bool | None
    home_internet: str | None


def students_existing(district_id: int, local_ids: list[str]) -> dict[str, ExistingStudent]:
    """The district's students with these local IDs, in any school (one query)."""
    found = Student.unscoped.filter(district_id=district_id, local_id__in=local_ids).values_list(
        "local_id", *ExistingStudent._fields
    )
    return {local_id: ExistingStudent(*rest) for local_id, *rest in found}


def student_target(
    row: StudentUpsert, ex: ExistingStudent | None, default_school_id: int | None = None
) -> ExistingStudent:
    """The student as a row leaves them: blank cells (None) keep what was there; a new
    student goes to ``default_school_id`` unless the row names a school, is enrolled,
    without a touchscreen need, home internet unknown. Whoever a roster names is enrolled
    (active) again."""
    if ex is None:
        return ExistingStudent(
            0,
            row.school_id or default_school_id,
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


class StudentsBulkUpsert:
    """Create or update a district's students, batch by batch, in the caller's transaction:
    ``begin()``, ``write(rows)`` per batch, ``finish()``. Rows must have been checked (a
    school for new students, grades the school teaches). New students through COPY;
    changed ones by one UPDATE at the end."""

    def __init__(self, *, district_id: int, now, default_school_id: int | None = None):
        self.district_id, self.now = district_id, now
        self.default_school_id = default_school_id
        self.stamp = now.isoformat()

    def begin(self) -> None:
        _in_transaction("StudentsBulkUpsert")
        self.updates = fastwrite.ChangeTable(*STUDENT_CHANGES)
        self.updates.create()

    def write(self, rows: list[StudentUpsert]) -> None:
        """One batch: new students through COPY, changed ones to the temporary table.
        ``rows`` may be any tuples with StudentUpsert's names (the importer's, as read)."""
        existing = students_existing(self.district_id, [r.local_id for r in rows])
        new = [row for row in rows if row.local_id not in existing]
        ids = iter(reserve_ids(Student, len(new)))
        created, changed = [], []
        district_id, now = self.district_id, self.now
        for row in rows:
            ex = existing.get(row.local_id)
            target = student_target(row, ex, self.default_school_id)
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

    def finish(self) -> None:
        """The one UPDATE of every changed student; each is enrolled (active) again."""
        self.updates.apply(self.now, active=True)


@transaction.atomic
def students_bulk_upsert(rows: list[StudentUpsert], *, district, default_school=None) -> None:
    """Write checked roster rows in one go (one transaction), and announce it once."""
    writer = StudentsBulkUpsert(
        district_id=district.pk,
        now=timezone.now(),
        default_school_id=getattr(default_school, "pk", None),
    )
    writer.begin()
    writer.write(rows)
    writer.finish()
    evidence_changed.send(sender=Student, district_ids={district.pk})
