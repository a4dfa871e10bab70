"""The device importer: Pillarwise's own columns, or a Google Admin console / GAM export.

Why one long module: a device row's reading (both formats' columns, the catalog entry, the
school, every cell's words) and the checks that need the whole file, in their two forms
(row by row on SQLite, staged in PostgreSQL through ``equity.inventory.staged``) that must
say the same words; split, the two forms would drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format

from equity.inventory import staged
from equity.inventory.bulk import (
    DevicesBulkUpsert,
    device_changes,
    device_serial_holders,
    devices_existing,
)
from equity.inventory.models import Device, DeviceKind, DeviceModel, DeviceStatus
from equity.inventory.services import device_move_refusal, device_row_problems

from . import importer
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
        problems = device_row_problems(asset_tag=asset_tag, serial_number=serial, quote=quoted)
        for field_name, message in problems.items():
            bad(field_name, message)

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
            and not self.staged
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
        """Duplicates inside the file, row by row (the staged path asks the database)."""
        ok = True
        earlier = self.tags_seen.setdefault(asset_tag, line)
        if earlier != line:
            self._report(self._tag_twice(line, asset_tag, earlier))
            ok = False
        if model_key is not None:
            earlier = self.serials_seen.setdefault(f"{model_key[0]}\x1f{serial}", line)
            if earlier != line:
                self._report(self._serial_twice(line, serial, earlier))
                ok = False
        return ok

    # The words of the checks that need the whole file or the inventory, for both paths.
    def _report(self, error: RowError) -> None:
        self.error(error.row, error.column, error.message)

    def _tag_twice(self, line, asset_tag, earlier) -> RowError:
        message = f"{quoted(asset_tag)} is also on row {earlier}"
        return RowError(line, self.col("asset_tag"), message)

    def _serial_twice(self, line, serial, earlier) -> RowError:
        message = f"{quoted(serial)} is also on row {earlier} (serials are unique per maker)"
        return RowError(line, self.col("serial_number"), message)

    def _serial_taken(self, line, serial) -> RowError:
        message = f"{quoted(serial)} is already used by another device in the district"
        return RowError(line, self.col("serial_number"), message)

    def _tag_taken(self, line, asset_tag) -> RowError:
        message = f"{quoted(asset_tag)} is already used by another device in the district"
        return RowError(line, self.col("asset_tag"), message)

    def _refused(self, line, refusal: str) -> RowError:
        column = self.col("school")
        if self.google:
            column = self.col("org_unit" if "org_unit" in self.header.index else "location")
        return RowError(line, column, refusal)

    def _no_school_error(self, line, miss: tuple[str, str] | None) -> RowError:
        if miss is not None:
            column, value = miss
            return RowError(
                line,
                column,
                f"{quoted(value)} names no school of the district (by code or name); "
                "choose a school for rows like this one (--school CODE)",
            )
        return RowError(
            line,
            self.col("school"),
            "is blank; a new device needs a school (or choose one with --school CODE)",
        )

    # batches
    def maker_of(self, key) -> str:
        if key in self.models:
            return self.models[key][1]
        return self.new_models[key].maker

    def check(self, rows):
        if not rows:
            return
        existing = devices_existing(self.district.pk, [r.asset_tag for r in rows])
        holders = device_serial_holders(self.district.pk, list({r.serial for r in rows}))
        result = self.result
        for row in rows:
            holder = holders.get((self.maker_of(row.model_key).lower(), row.serial))
            if holder is not None and holder != row.asset_tag:
                self._report(self._serial_taken(row.line, row.serial))
                continue
            ex = existing.get(row.asset_tag)
            if ex is None:
                if row.school_id is None and self.default_school_id is None:
                    self._report(self._no_school_error(row.line, row.school_miss))
                    continue
                result.created += 1
                continue
            if not self.schools.may_use(ex.school_id):
                self._report(self._tag_taken(row.line, row.asset_tag))
                continue
            model = self.models.get(row.model_key)
            changes = device_changes(row, ex, model[0] if model is not None else None)
            refusal = "school" in changes and device_move_refusal(row.asset_tag, ex.status)
            if refusal:
                self._report(self._refused(row.line, refusal))
                continue
            if row.status is not None and row.status != ex.status:
                result.status_kept += 1
            if changes:
                result.updated += 1
            else:
                result.unchanged += 1
        result.models_created = sorted(f"{s.maker} {s.name}" for s in self.new_models.values())
        result.aue_disagreements = self.aue_disagreements()

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
        if self.staged:
            self.before_writing_staged()
            return
        self.writer = DevicesBulkUpsert(
            district_id=self.district.pk,
            by_id=self.user.pk if self.user is not None else None,
            now=self.now,
            school_names=self.schools.names,
            default_school_id=self.default_school_id,
            note_suffix=" (import)",
        )
        self.writer.begin()

    def write(self, rows):
        """One batch, through the inventory's bulk write (new devices and their history by
        COPY; changed ones by one ``UPDATE ... FROM`` at the end)."""
        if any(row is None for row in rows):
            raise _FileChanged
        models = self.models
        self.writer.write(rows, model_of=lambda row: models[row.model_key][:2])

    def after_writing(self):
        if not self.staged:
            self.writer.finish()
        elif self.written != [self.result.updated, self.result.created]:
            raise _FileChanged  # another writer changed the inventory since the check

    # On PostgreSQL: the parsed rows in a temporary table, checked and written set-based
    # (equity.inventory.staged); nothing of the file stays in Python.
    def use_staging(self) -> bool:
        if connection.vendor != "postgresql":
            return False
        self.stager = staged.DevicesStaged(district_id=self.district.pk)
        self.stager.begin()
        self.model_refs: dict[tuple[str, str], int] = {}
        return True

    def end_staging(self) -> None:
        self.stager.end()

    def staging_idle(self) -> None:
        self.stager.wait()

    def stage(self, rows, batch):
        # Which part each row falls in: only a file without errors is written, and then
        # the rows of a batch are its rows in order.
        self.stager.add(
            rows,
            batch=batch,
            first=batch * importer.LOOKUP_BATCH,
            per_part=importer.STAGED_PART,
            refs=self.model_refs,
        )

    def _name_models(self, *, analyze: bool = False) -> None:
        """The catalog entry of every model ref (None: not created yet)."""
        refs = []
        for key, ref in self.model_refs.items():
            model = self.models.get(key)
            refs.append((ref, model[0] if model else None, self.maker_of(key)))
        self.stager.models(refs, analyze=analyze)

    def check_staged(self, batches):
        self._name_models(analyze=True)
        verdict = self.stager.check(
            allowed_school_ids=self.allowed_ids,
            default_school_id=self.default_school_id,
            checked_batches=batches,
            limit=self.max_errors,
        )
        words = {
            staged.TAG_TWICE: lambda p: self._tag_twice(p.line, p.asset_tag, p.earlier),
            staged.SERIAL_TWICE: lambda p: self._serial_twice(p.line, p.serial, p.earlier),
            staged.SERIAL_TAKEN: lambda p: self._serial_taken(p.line, p.serial),
            staged.NO_SCHOOL: lambda p: self._no_school_error(
                p.line, (p.miss_column, p.miss_value) if p.miss_column is not None else None
            ),
            staged.TAG_TAKEN: lambda p: self._tag_taken(p.line, p.asset_tag),
            staged.REFUSED: lambda p: self._refused(
                p.line, device_move_refusal(p.asset_tag, p.status)
            ),
        }
        order = {outcome: i for i, outcome in enumerate(staged.ERRORS)}
        in_file = set(staged.IN_FILE)
        self.merge_errors(
            [
                (
                    (p.batch, 0 if p.outcome in in_file else 1, p.line, order[p.outcome]),
                    words[p.outcome](p),
                )
                for p in verdict.problems
            ],
            verdict.errors,
        )
        result = self.result
        result.created = verdict.counts.get(staged.CREATED, 0)
        result.updated = verdict.counts.get(staged.UPDATED, 0)
        result.unchanged = verdict.counts.get(staged.UNCHANGED, 0)
        result.status_kept = verdict.status_kept
        result.models_created = sorted(f"{s.maker} {s.name}" for s in self.new_models.values())
        result.aue_disagreements = self.aue_disagreements()

    def before_writing_staged(self):
        self._name_models()
        self.stager.prepare_writing()
        by_id = self.user.pk if self.user is not None else None
        updated = self.stager.write_changes(by_id=by_id, now=self.now, note_suffix=" (import)")
        self.written = [updated, 0]

    def write_part(self, part):
        self.written[1] += self.stager.write_new(
            part=part,
            by_id=self.user.pk if self.user is not None else None,
            now=self.now,
            default_school_id=self.default_school_id,
        )


def import_devices(source_or_binary, *, fmt: str | None = None, **kwargs) -> ImportResult:
    """Import a device list. See DeviceImporter / Importer for the keyword arguments."""
    return DeviceImporter(fmt=fmt, **kwargs).run(source_or_binary)
