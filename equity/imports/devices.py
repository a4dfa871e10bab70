"""The device importer: Pillarwise's own columns, or a Google Admin console / GAM export."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.utils import timezone
from django.utils.formats import date_format

from equity.inventory import fastwrite
from equity.inventory.fastwrite import day, number, text
from equity.inventory.models import (
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceModel,
    DeviceStatus,
    EventKind,
)
from schools.bulk import reserve_ids

from .importer import Importer, ImportResult, RowCheck, Schools, _FileChanged
from .readers import (
    CACHED_VALUES,
    FUNDING,
    GOOGLE_ADMIN,
    GOOGLE_STATUSES,
    KINDS,
    PILLARWISE,
    STATUSES,
    Column,
    Invalid,
    RowError,
    norm,
    parse_bool,
    parse_choice,
    parse_date,
    parse_month_or_date,
    parse_price,
    quoted,
)

AUE_SAMPLE_ROWS = 5  # row numbers named per auto-update date where a model's rows disagree


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
                DeviceModel.unscoped.filter(pk=pk).update(auto_update_expiration=aue)
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


def import_devices(source_or_binary, *, fmt: str | None = None, **kwargs) -> ImportResult:
    """Import a device list. See DeviceImporter / Importer for the keyword arguments."""
    return DeviceImporter(fmt=fmt, **kwargs).run(source_or_binary)
