"""Writes of the Google sync: the connection, the org-unit map, a sync run, and acting on a
device in Google. Devices are written only through the inventory's bulk writer
(``equity.inventory.bulk.DevicesBulkUpsert``) and services (``devices_retire``), so a
synced device gets the same history ("Added to inventory", "Moved" / "Arrived",
"Retired") and the same evidence announcement as an imported one.

A sync reads every page from Google first (nothing is held open meanwhile), then writes in
one transaction: the inventory, Google's record of each device, the org units seen. A dry
run does all of it and rolls back, so its counts are exactly what a real run would do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection as db
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from core.auditlog import record
from core.models import Kind
from core.sealing import seal
from equity.inventory import bulk, fastwrite
from equity.inventory.models import (
    Device,
    DeviceKind,
    DeviceModel,
    DeviceStatus,
    applicable_expiration,
)
from equity.inventory.services import device_row_problems, devices_retire
from schools.bulk import copy_into
from schools.scoping import outside_scope
from schools.signals import evidence_changed

from .directory import Directory, GoogleProblem, expiration, when
from .models import (
    KEY_PURPOSE,
    AueCounted,
    AueTally,
    GoogleConnection,
    GoogleStatus,
    OrgUnit,
    SyncRun,
    school_for,
)

BATCH = 5_000
NOTE = " (Google sync)"

# --- the connection ----------------------------------------------------------------------


def read_key_file(content: str) -> dict:
    """The parts of a service-account key file a connection needs, or a ValidationError
    on the ``key_file`` field saying what is wrong."""
    try:
        info = json.loads(content)
    except ValueError:
        raise ValidationError({"key_file": "This is not a JSON key file."}) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ValidationError(
            {"key_file": 'This is not a service-account key (its "type" must be service_account).'}
        )
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise ValidationError({"key_file": f"The key file has no {', '.join(missing)}."})
    if "PRIVATE KEY" not in info["private_key"]:
        raise ValidationError({"key_file": "The key file's private_key is not a PEM key."})
    return info


@transaction.atomic
def connection_save(*, district, by, key_file: str = "", **fields) -> GoogleConnection:
    """Create or change a district's connection. A key file given replaces the stored key
    (sealed); none keeps it. The key is never returned or shown again."""
    connection = GoogleConnection.unscoped.filter(district=district).first()
    if connection is None:
        connection = GoogleConnection(district=district)
    for name, value in fields.items():
        setattr(connection, name, value)
    school = connection.default_school
    if school is not None and school.district_id != district.pk:
        raise ValidationError({"default_school": "Choose a school of this district."})
    if key_file:
        info = read_key_file(key_file)
        connection.key_sealed = seal(json.dumps(info), purpose=KEY_PURPOSE)
        connection.key_client_email = info["client_email"][:300]
        connection.key_id = str(info.get("private_key_id", ""))[:100]
        connection.key_uploaded_at = timezone.now()
    elif not connection.key_sealed:
        raise ValidationError({"key_file": "Upload the service account's JSON key file."})
    created = connection.pk is None
    connection.save()
    what = "Google Admin connection " + ("made" if created else "changed")
    if key_file:
        what += f"; service-account key {connection.key_id[:40] or 'without id'} uploaded"
    record(Kind.INTEGRATION, user=by, district=district, obj=connection, detail=what)
    return connection


@transaction.atomic
def org_unit_map(*, district, path: str, school) -> OrgUnit:
    """Map an org-unit path (and those below it) to a school; ``school`` None unmaps it."""
    path = "/" + path.strip().strip("/") if path.strip() not in ("", "/") else "/"
    if school is not None and school.district_id != district.pk:
        raise ValidationError({"school": "Choose a school of this district."})
    unit, _created = OrgUnit.unscoped.update_or_create(
        district=district, path=path, defaults={"school": school}
    )
    target = f"school {school.code}" if school is not None else "no school"
    record(
        Kind.INTEGRATION, district=district, obj=unit, detail=f"org unit {path[:120]} → {target}"
    )
    return unit


# --- reading Google's answer ---------------------------------------------------------------


class Seen(NamedTuple):
    """One Chromebook as Google listed it (recent users are never read)."""

    google_id: str
    serial: str
    model: str
    status: str
    org_unit: str
    asset_id: str
    location: str
    aue: date | None
    last_sync: datetime | None


def seen(item: dict) -> Seen:
    status = item.get("status", "")
    return Seen(
        item.get("deviceId", ""),
        " ".join(str(item.get("serialNumber", "")).split()),
        " ".join(str(item.get("model", "")).split())[:300],
        status if status in GoogleStatus.values else GoogleStatus.OTHER,
        item.get("orgUnitPath", "") or "/",
        str(item.get("annotatedAssetId", "")).strip()[:200],
        str(item.get("annotatedLocation", "")).strip()[:200],
        expiration(item),
        when(item.get("lastSync")),
    )


def split_model(name: str) -> tuple[str, str]:
    """Google's model ("Acer Chromebook Spin 512") as the catalog's maker and name."""
    maker, _, rest = (name or "Unknown Chromebook").partition(" ")
    return maker[:100], (rest or maker)[:200]


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    retired: int = 0
    unmapped_org_units: list[str] = field(default_factory=list)
    only_in_google: list[str] = field(default_factory=list)
    only_in_pillarwise: list[str] = field(default_factory=list)
    assigned_elsewhere: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    models_added: list[str] = field(default_factory=list)
    devices_read: int = 0
    pages: int = 0
    backoffs: int = 0
    dry_run: bool = False
    delta: bool = False

    def as_json(self) -> dict:
        return asdict(self)


Progress = Callable[[str, int, int], None]  # phase, done, total


def sync(
    connection: GoogleConnection,
    *,
    by=None,
    dry_run: bool = False,
    delta: bool = False,
    progress: Progress | None = None,
) -> SyncResult:
    """Read the district's Chromebooks from Google and write them, all or nothing.

    A delta run asks Google only for devices that synced since the last full run
    (``query="sync:YYYY-MM-DD.."``) and lists nothing as missing; a full run does."""
    progress = progress or (lambda phase, done, total: None)
    if not connection.has_key:
        raise GoogleProblem("The connection has no service-account key yet.")
    result = SyncResult(dry_run=dry_run, delta=bool(delta and connection.last_full_sync_at))

    def backed_off(status, wait):
        result.backoffs += 1
        progress(f"waiting {wait:.1f} s (Google answered {status})", result.devices_read, 0)

    directory = Directory(connection, on_backoff=backed_off)
    query = ""
    if result.delta:
        query = f"sync:{timezone.localtime(connection.last_full_sync_at).date().isoformat()}.."

    def page_read(n):
        result.pages += 1
        result.devices_read += n
        progress(SyncRun.Status.READING, result.devices_read, 0)

    items = [
        seen(item)
        for item in directory.devices(
            org_unit=connection.org_unit_root, query=query, on_page=page_read
        )
    ]
    progress(SyncRun.Status.WRITING, 0, len(items))
    with outside_scope():
        _write(connection, items, result, by=by, progress=progress)
    return result


def _chosen(items: list[Seen], result: SyncResult) -> dict[str, Seen]:
    """One Google record per serial (a re-enrolled device is listed twice): the active one,
    else the one that synced last."""
    chosen: dict[str, Seen] = {}
    epoch = timezone.make_aware(datetime(1970, 1, 1))
    for item in items:
        if not item.serial or not item.google_id:
            result.problems.append(
                f"Google listed a device without a serial number ({item.google_id})."
            )
            continue
        held = chosen.get(item.serial)
        rank = (item.status == GoogleStatus.ACTIVE, item.last_sync or epoch)
        if held is None or rank > (held.status == GoogleStatus.ACTIVE, held.last_sync or epoch):
            chosen[item.serial] = item
    return chosen


class Held(NamedTuple):
    pk: int
    asset_tag: str
    maker: str
    model_id: int
    status: str
    school_id: int
    serial: str


def _held_by_serial(district_id: int, serials: list[str]) -> dict[str, Held]:
    held: dict[str, Held] = {}
    for start in range(0, len(serials), BATCH):
        where, params = fastwrite.among("serial_number", serials[start : start + BATCH])
        for row in fastwrite.fetch(
            "SELECT id, asset_tag, maker, model_id, status, school_id, serial_number "  # noqa: S608
            f"FROM equity_device WHERE district_id = %s AND {where}",
            [district_id, *params],
        ):
            held.setdefault(row[6], Held(*row))
    return held


def _tags_taken(district_id: int, tags: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(tags), BATCH):
        where, params = fastwrite.among("asset_tag", tags[start : start + BATCH])
        taken.update(
            tag
            for (tag,) in fastwrite.fetch(
                f"SELECT asset_tag FROM equity_device WHERE district_id = %s AND {where}",  # noqa: S608
                [district_id, *params],
            )
        )
    return taken


@transaction.atomic
def _write(connection, items: list[Seen], result: SyncResult, *, by, progress: Progress) -> None:
    district_id, now = connection.district_id, timezone.now()
    chosen = _chosen(items, result)
    units = dict(OrgUnit.unscoped.filter(district_id=district_id).values_list("path", "school_id"))
    mapped = {path: school for path, school in units.items() if school}
    school_of = {path: school_for(path, mapped) for path in {i.org_unit for i in items}}
    result.unmapped_org_units = sorted(p for p, s in school_of.items() if s is None)
    default_school = connection.default_school_id

    held = _held_by_serial(district_id, list(chosen))
    catalog: dict[str, tuple[int, str]] = {}
    for pk, maker, name in DeviceModel.unscoped.filter(district_id=district_id).values_list(
        "pk", "maker", "name"
    ):
        catalog[f"{maker} {name}".lower()] = (pk, maker)

    # New devices: an asset tag from Google's annotated asset id, else the serial number.
    candidates = {s: (i.asset_id, s) for s, i in chosen.items() if s not in held}
    taken = _tags_taken(district_id, [t for pair in candidates.values() for t in pair if t])
    rows, to_retire = [], []
    for serial, item in chosen.items():
        school_id = school_of[item.org_unit]
        ex = held.get(serial)
        if ex is not None:
            target = school_id
            if school_id and school_id != ex.school_id and ex.status == DeviceStatus.ASSIGNED:
                result.assigned_elsewhere.append(ex.asset_tag)
                target = None  # a checked-out device stays (device_move_refusal)
            if ex.status == DeviceStatus.RETIRED:
                target = None
            rows.append(
                bulk.DeviceUpsert(
                    ex.asset_tag, ex.serial, ex.model_id, ex.maker, target,
                    None, None, None, None, item.aue,
                )
            )  # fmt: skip
            if item.status == GoogleStatus.DEPROVISIONED and ex.status != DeviceStatus.RETIRED:
                if ex.status == DeviceStatus.ASSIGNED:
                    result.problems.append(
                        f"{ex.asset_tag} is deprovisioned in Google but checked out here; "
                        "check it in, then retire it."
                    )
                else:
                    to_retire.append(ex.pk)
            continue
        if item.status == GoogleStatus.DEPROVISIONED:
            continue  # nothing to manage: not added
        target = school_id or default_school
        if target is None:
            result.only_in_google.append(serial)
            continue
        tag = next((t for t in candidates[serial] if t and t not in taken), None)
        problems = device_row_problems(asset_tag=tag or "", serial_number=serial)
        if problems:
            result.problems.append(
                f"Serial {serial}: the asset tag "
                + (problems.get("asset_tag") or problems.get("serial_number", ""))
                + "; not added."
            )
            continue
        taken.add(tag)
        key = item.model.lower() or "unknown chromebook"
        if key not in catalog:
            maker, name = split_model(item.model)
            model = DeviceModel.unscoped.create(
                district_id=district_id, maker=maker, name=name, kind=DeviceKind.CHROMEBOOK
            )
            catalog[key] = (model.pk, model.maker)
            result.models_added.append(str(model))
        model_id, maker = catalog[key]
        rows.append(
            bulk.DeviceUpsert(
                tag, serial, model_id, maker, target, DeviceStatus.IN_STOCK, None, "", "", item.aue
            )
        )
        result.created += 1

    writer = bulk.DevicesBulkUpsert(
        district_id=district_id,
        by_id=getattr(by, "pk", None),
        now=now,
        school_names=dict(
            fastwrite.fetch(
                "SELECT id, name FROM schools_school WHERE district_id = %s", [district_id]
            )
        ),
        note_suffix=NOTE,
    )
    writer.begin()
    for start in range(0, len(rows), BATCH):
        writer.write(rows[start : start + BATCH])
        progress(SyncRun.Status.WRITING, min(start + BATCH, len(rows)), len(rows))
    result.updated = writer.updates.count
    writer.finish()
    if to_retire:
        result.retired = devices_retire(
            devices=list(Device.unscoped.filter(pk__in=to_retire)),
            by=by,
            note="Deprovisioned in Google Admin" + NOTE,
        )
    if result.created or result.updated:
        evidence_changed.send(sender=Device, district_ids={district_id})

    _store_google_records(district_id, items, chosen, school_of, now)
    _store_org_units(district_id, items, school_of, now, full=not result.delta)
    if not result.delta:
        google_serials = {i.serial for i in items}
        result.only_in_pillarwise = sorted(
            tag
            for tag, serial in Device.unscoped.filter(
                district_id=district_id, model__kind=DeviceKind.CHROMEBOOK
            )
            .exclude(status=DeviceStatus.RETIRED)
            .values_list("asset_tag", "serial_number")
            if serial not in google_serials
        )
        GoogleConnection.unscoped.filter(pk=connection.pk).update(last_full_sync_at=now)
    count_aue(district_id=district_id)
    if result.dry_run:
        transaction.set_rollback(True)


@transaction.atomic
def count_aue(*, district_id: int) -> int:
    """Count the district's ``AueTally`` again, whole: its devices that are not retired,
    grouped by school and the expiration day that applies (one grouped read, one insert of
    a row per school and day). Returns the rows written.

    One count of a district at a time: the district's ``AueCounted`` row is made if missing
    and locked until the transaction commits, so a second count (the nightly one during a
    sync) waits, then deletes this one's rows and writes its own, never adding to them."""
    now = timezone.now()
    AueCounted.unscoped.bulk_create(
        [AueCounted(district_id=district_id, counted_at=now)], ignore_conflicts=True
    )
    list(AueCounted.unscoped.select_for_update().filter(district_id=district_id).values("pk"))
    AueTally.unscoped.filter(district_id=district_id).delete()
    counts = (
        Device.unscoped.filter(district_id=district_id)
        .exclude(status=DeviceStatus.RETIRED)
        .annotate(expires_on=applicable_expiration())
        .filter(expires_on__isnull=False)
        .values_list("school_id", "expires_on")
        .annotate(devices=Count("pk"))
        .order_by()
    )
    rows = AueTally.unscoped.bulk_create(
        (
            AueTally(district_id=district_id, school_id=school, expires_on=day, devices=n)
            for school, day, n in counts.iterator()
        ),
        batch_size=BATCH,
    )
    AueCounted.unscoped.filter(district_id=district_id).update(counted_at=now)
    return len(rows)


INCOMING = "googlesync_incoming"
INCOMING_COLUMNS = (
    ("google_id", "varchar(100) NOT NULL"),
    ("serial_number", "varchar(100) NOT NULL"),
    ("model_name", "varchar(300) NOT NULL"),
    ("status", "varchar(20) NOT NULL"),
    ("org_unit_path", "varchar(400) NOT NULL"),
    ("school_id", "bigint NULL"),
    ("annotated_asset_id", "varchar(200) NOT NULL"),
    ("annotated_location", "varchar(200) NOT NULL"),
    ("auto_update_expiration", "date NULL"),
    ("last_sync", "timestamp with time zone NULL"),
    ("chosen", "boolean NOT NULL"),
    ("device_id", "bigint NULL"),
)
UPSERTED = [name for name, _kind in INCOMING_COLUMNS[1:-2]]


def _store_google_records(district_id, items, chosen, school_of, now) -> None:
    """Google's record of every device listed, linked to the inventory's device with its
    serial (the chosen record of a serial only), in three statements whatever the fleet:
    the records into a temporary table (COPY on PostgreSQL), the links they take over let
    go, then one INSERT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite alike)."""
    adapt = db.ops.adapt_datetimefield_value
    names = [name for name, _kind in INCOMING_COLUMNS[:-1]]
    with db.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {INCOMING}")
        spec = ", ".join(f"{name} {kind}" for name, kind in INCOMING_COLUMNS)
        cursor.execute(f"CREATE TEMPORARY TABLE {INCOMING} ({spec})")
        copy_into(
            INCOMING,
            names,
            (
                (
                    i.google_id, i.serial, i.model, i.status, i.org_unit[:400],
                    school_of[i.org_unit], i.asset_id, i.location, i.aue,
                    adapt(i.last_sync), chosen.get(i.serial) is i,
                )
                for i in items
                if i.google_id
            ),
        )  # fmt: skip
        cursor.execute(
            f"UPDATE {INCOMING} SET device_id = d.id FROM equity_device d "  # noqa: S608
            f"WHERE {INCOMING}.chosen AND d.district_id = %s "
            f"AND d.serial_number = {INCOMING}.serial_number",
            [district_id],
        )
        if db.vendor == "postgresql":
            cursor.execute(f"ANALYZE {INCOMING}")  # a join plan, not a loop over both tables
        # A device now linked to another Google record (re-enrolled) lets go of the old one.
        target = "googlesync_googledevice"
        cursor.execute(
            f"UPDATE {target} SET device_id = NULL FROM {INCOMING} n "  # noqa: S608
            f"WHERE {target}.district_id = %s AND {target}.device_id = n.device_id "
            f"AND {target}.google_id <> n.google_id",
            [district_id],
        )
        columns = ", ".join(UPSERTED)
        cursor.execute(
            f"INSERT INTO googlesync_googledevice (district_id, google_id, {columns}, "  # noqa: S608
            "device_id, seen_at) SELECT %s, n.google_id, "
            + ", ".join(f"n.{c}" for c in UPSERTED)
            + f", n.device_id, %s FROM {INCOMING} n WHERE true "
            "ON CONFLICT (district_id, google_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in [*UPSERTED, "device_id", "seen_at"]),
            [district_id, adapt(now)],
        )
        cursor.execute(f"DROP TABLE {INCOMING}")


def _store_org_units(district_id, items, school_of, now, *, full: bool) -> None:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.org_unit] = counts.get(item.org_unit, 0) + 1
    if full:
        OrgUnit.unscoped.filter(district_id=district_id).update(device_count=0)
    OrgUnit.unscoped.bulk_create(
        [
            OrgUnit(district_id=district_id, path=p[:400], device_count=n, last_seen_at=now)
            for p, n in counts.items()
        ],
        update_conflicts=True,
        unique_fields=["district", "path"],
        update_fields=["device_count", "last_seen_at"] if full else ["last_seen_at"],
    )


# --- a run, as the task and "Sync now" drive it -----------------------------------------------


def run_start(*, district, by, dry_run: bool = False) -> SyncRun:
    """Queue a run (the caller enqueues the task); refused while another one is going."""
    if SyncRun.unscoped.filter(
        district=district,
        status__in=[SyncRun.Status.QUEUED, SyncRun.Status.READING, SyncRun.Status.WRITING],
    ).exists():
        raise ValidationError("A sync of this district is already under way.")
    connection = GoogleConnection.unscoped.filter(district=district).first()
    if connection is None or not connection.has_key:
        raise ValidationError("Connect the district to Google first (upload the key).")
    return SyncRun.unscoped.create(district=district, by=by, dry_run=dry_run)


@transaction.atomic
def approve(*, connection: GoogleConnection, by) -> None:
    """The first run's preview was read: nightly runs may start."""
    GoogleConnection.unscoped.filter(pk=connection.pk).update(
        approved_at=timezone.now(), approved_by=by
    )
    record(
        Kind.INTEGRATION,
        user=by,
        district=connection.district_id,
        obj=connection,
        detail="Google Admin nightly sync approved",
    )


@transaction.atomic
def run_finish(run: SyncRun, result: SyncResult | None, error: str = "") -> None:
    fields = {"finished_at": timezone.now()}
    if result is None:
        fields.update(status=SyncRun.Status.FAILED, error=error[:2000])
    else:
        data = result.as_json()
        fields.update(
            status=SyncRun.Status.DONE,
            created=result.created,
            updated=result.updated,
            retired=result.retired,
            pages=result.pages,
            devices_read=result.devices_read,
            backoffs=result.backoffs,
            delta=result.delta,
            result={k: v[:500] if isinstance(v, list) else v for k, v in data.items()},
        )
    SyncRun.unscoped.filter(pk=run.pk).update(**fields)
