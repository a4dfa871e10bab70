"""Scale data for device equity (``seed_scale``): the catalog, students, devices at about
1.05 per student, who holds what, and years of device history.

Looks like the demo (equity/demo.py), only far more of it. Per school:

- students in every grade the school serves (the school's bands add up to them), with the
  flags the pages filter on: about 3% need touch, 4–18% have no home internet (more where
  more families are economically disadvantaged), fee waivers in proportion to that share,
  homerooms of about 25, and about 2% who left during the year (inactive, with a reason);
- devices: round(1.05 × enrollment), of which about 3% are hotspots; touchscreens for
  PK–2 and students who need touch, laptops for some high schoolers, an aging Chromebook
  model whose updates end within the year;
- status mix of computers: about 1.2% lost, 0.3% stolen, 1% retired, 2% in repair, the rest
  usable; 95% of active students hold one (an open Assignment), the others are spares;
  hotspots go to students without home internet;
- history: every device was received (``created``), handed out and collected in each of up
  to two past school years (the last one also as a closed Assignment), sometimes repaired
  and seen in audits, and its current state has the event that led to it.

Asset tags (``S0001-00001``) are unique in the district, serials (maker prefix + the
device id) unique per maker, one open assignment per device and per student and kind.
"""

from __future__ import annotations

import math
import time
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from equity.inventory.fastwrite import STUDENT_COPY_FIELDS
from equity.inventory.models import (
    Assignment,
    Circumstance,
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceModel,
    DeviceStatus,
    EventKind,
    HomeInternet,
    LeaveReason,
    ReturnCondition,
    Student,
)
from equity.year.models import DeviceAgreement, PriceListEntry
from schools.funding import FundingSource
from schools.models import Grade
from schools.scale import ScaleContext, ScaleSchool

CATALOG = [
    # key, maker, name, kind, touch, price, auto-update expiration (days from today or None)
    ("spin", "Acer", "Chromebook Spin 512", DeviceKind.CHROMEBOOK, True, "349.00", 2000),
    ("ipad", "Apple", "iPad (9th generation)", DeviceKind.TABLET, True, "329.00", None),
    ("hp", "HP", "Chromebook 14 G7", DeviceKind.CHROMEBOOK, False, "279.00", 1650),
    ("dell", "Dell", "Chromebook 3100", DeviceKind.CHROMEBOOK, False, "249.00", 213),
    ("lenovo", "Lenovo", "ThinkPad L13", DeviceKind.LAPTOP, False, "789.00", None),
    ("hotspot", "Kajeet", "SmartSpot 2", DeviceKind.HOTSPOT, False, "99.00", None),
]
DEVICES_PER_STUDENT = 1.05
HOTSPOT_SHARE = 0.03
LOST, STOLEN, RETIRED, REPAIR = 0.012, 0.003, 0.010, 0.020
HOLDS_DEVICE = 0.95
PLACES = [
    "Route 12 bus",
    "Blue Line train",
    "Route 40 bus",
    "City library",
    "Bus stop on Elm St",
    "Football field",
    "Cafeteria",
    "Gym locker room",
]
FUNDING = [
    FundingSource.GENERAL_FUND,
    FundingSource.TITLE_I,
    FundingSource.E_RATE,
    FundingSource.GRANT,
]
REPAIR_NOTES = ["Cracked screen", "Keyboard spill", "Will not charge", "Broken hinge"]
ROOMS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
LOCAL_ID_START = 10_000_000

STUDENT_FIELDS = STUDENT_COPY_FIELDS
DEVICE_FIELDS = [
    "id",
    "district",
    "school",
    "model",
    "asset_tag",
    "serial_number",
    "maker",
    "status",
    "purchase_date",
    "funding_source",
    "notes",
    "created_at",
    "updated_at",
]
ASSIGNMENT_FIELDS = [
    "device",
    "student",
    "is_hotspot",
    "checked_out_at",
    "checked_out_by",
    "checked_in_at",
    "checked_in_by",
    "condition_on_return",
    "charger_missing",
    "return_note",
    "handout_event",
    "collection_event",
]
EVENT_FIELDS = ["device", "kind", "at", "by", "school", "student", "circumstance", "place", "note"]
TABLES = [Student, Device, Assignment, DeviceEvent]


def between(rng, low: int, high: int) -> int:
    """``rng.randint(low, high)`` at a seventh of the cost (it runs millions of times here)."""
    return low + int(rng.random() * (high - low + 1))


def device_count(school: ScaleSchool) -> tuple[int, int]:
    """(computers, hotspots) of a school: about 1.05 devices per student in all."""
    total = round(school.enrollment * DEVICES_PER_STUDENT)
    hotspots = min(total, max(1, round(school.enrollment * HOTSPOT_SHARE)))
    return total - hotspots, hotspots


@transaction.atomic
def build(ctx: ScaleContext) -> None:
    started = time.perf_counter()
    catalog = _catalog(ctx)
    _agreement(ctx, catalog)
    next_local = LOCAL_ID_START
    done = 0
    with ctx.fast_load(*TABLES):
        for chunk in ctx.chunks():
            students = iter(ctx.ids(Student, sum(s.enrollment for s in chunk)))
            devices = iter(ctx.ids(Device, sum(sum(device_count(s)) for s in chunk)))
            rows: dict[str, list] = {"students": [], "devices": [], "assignments": [], "events": []}
            for school in chunk:
                next_local = _school(ctx, school, catalog, students, devices, next_local, rows)
            ctx.copy(Student, STUDENT_FIELDS, rows["students"])
            ctx.copy(Device, DEVICE_FIELDS, rows["devices"])
            ctx.copy(Assignment, ASSIGNMENT_FIELDS, rows["assignments"])
            ctx.copy(DeviceEvent, EVENT_FIELDS, rows["events"])
            done += len(chunk)
            ctx.progress("equity", done, len(ctx.schools), started, Student, Device, DeviceEvent)
    ctx.analyze(*TABLES)


def _catalog(ctx: ScaleContext) -> dict[str, DeviceModel]:
    models = ctx.bulk(
        DeviceModel,
        [
            DeviceModel(
                district=ctx.district,
                maker=maker,
                name=name,
                kind=kind,
                touchscreen=touch,
                unit_price=Decimal(price),
                auto_update_expiration=None
                if aue is None
                else (ctx.today + timedelta(days=aue)).replace(day=1),
            )
            for _key, maker, name, kind, touch, price, aue in CATALOG
        ],
    )
    return {spec[0]: m for spec, m in zip(CATALOG, models, strict=True)}


def _agreement(ctx: ScaleContext, catalog: dict[str, DeviceModel]) -> None:
    from .demo import AGREEMENT, PRICES

    ctx.bulk(DeviceAgreement, [DeviceAgreement(district=ctx.district, version=1, text=AGREEMENT)])
    ctx.bulk(
        PriceListEntry,
        [PriceListEntry(district=ctx.district, kind=k, amount=Decimal(a)) for k, a in PRICES],
    )


class _Device:
    """A device while its school is generated (a list of these per school, then rows)."""

    __slots__ = ("bought", "holder", "key", "model", "pk", "status")

    def __init__(self, pk: int, key: str, model: DeviceModel, bought: date):
        self.pk, self.key, self.model, self.bought = pk, key, model, bought
        self.status = DeviceStatus.IN_STOCK
        self.holder: int | None = None


def _school(ctx, school: ScaleSchool, catalog, student_ids, device_ids, next_local, rows) -> int:
    """Append one school's students, devices, assignments and events to ``rows``; returns the
    next free local student id."""
    rng = ctx.rng("equity", school.code)
    students, next_local = _students(ctx, rng, school, student_ids, next_local, rows["students"])
    devices, computers = _fleet(ctx, rng, school, catalog, device_ids, students)
    _hand_out(ctx, rng, devices, computers, students)
    everyone = [s[0] for s in students] or [None]
    for device in devices:
        _history(ctx, rng, school, device, everyone, rows)
    now = ctx.stamp(ctx.now)
    for i, d in enumerate(devices):
        tag = (
            f"{school.code}-H{i - computers + 1:04d}"
            if i >= computers
            else f"{school.code}-{i + 1:05d}"
        )
        serial = f"{d.model.maker[:2].upper()}{d.pk:010d}"
        rows["devices"].append(
            (
                d.pk,
                ctx.district.pk,
                school.pk,
                d.model.pk,
                tag,
                serial,
                d.model.maker,
                d.status,
                d.bought,
                rng.choice(FUNDING),
                "",
                now,
                now,
            )
        )
    return next_local


def _students(ctx, rng, school: ScaleSchool, ids, next_local, out) -> tuple[list, int]:
    """Every grade of the school's span; returns (id, grade, needs touch, internet, active)."""
    today, now = ctx.today, ctx.stamp(ctx.now)
    no_internet = 0.04 + float(school.econ_pct) / 100 * 0.14
    waiver = float(school.econ_pct) / 100
    students = []
    for grade in sorted(school.grades):
        count = school.grades[grade]
        rooms = max(1, math.ceil(count / 25))
        label = Grade(grade).label
        for j in range(count):
            pk = next(ids)
            room = j % rooms
            homeroom = f"{label}{ROOMS[room]}" if rooms <= len(ROOMS) else f"{label}-{room + 1}"
            roll = rng.random()
            if roll < no_internet:
                internet = HomeInternet.NO
            elif roll < no_internet + 0.04:
                internet = HomeInternet.UNKNOWN
            else:
                internet = HomeInternet.YES
            touch = rng.random() < 0.03
            active = rng.random() >= 0.02
            left_on = None if active else today - timedelta(days=between(rng, 1, 120))
            reason = "" if active else rng.choice([LeaveReason.TRANSFERRED, LeaveReason.WITHDRAWN])
            out.append(
                (
                    pk,
                    ctx.district.pk,
                    school.pk,
                    str(next_local),
                    grade,
                    touch,
                    internet,
                    homeroom,
                    rng.random() < waiver,
                    active,
                    left_on,
                    reason,
                    now,
                    now,
                )
            )
            next_local += 1
            students.append((pk, grade, touch, internet, active))
    return students, next_local


def _fleet(ctx, rng, school: ScaleSchool, catalog, ids, students) -> tuple[list[_Device], int]:
    """The school's devices (computers first, then hotspots) with their status mix."""
    computers, hotspots = device_count(school)
    touch_students = sum(1 for _pk, g, t, _i, _a in students if t or g <= Grade.G2)
    touch = min(computers, math.ceil(touch_students * DEVICES_PER_STUDENT))
    ipads = min(touch, math.ceil(school.band(Grade.PK, Grade.K) * DEVICES_PER_STUDENT))
    high_share = school.band(Grade.G9, Grade.G12) / max(1, school.enrollment)
    kinds = ["ipad"] * ipads + ["spin"] * (touch - ipads)
    for i in range(computers - touch):
        if rng.random() < high_share * 0.12:
            kinds.append("lenovo")
        elif i % 3 == 0:
            kinds.append("dell")  # the aging model
        else:
            kinds.append("hp")
    kinds += ["hotspot"] * hotspots
    devices = [
        _Device(next(ids), key, catalog[key], ctx.today - timedelta(days=between(rng, 60, 1100)))
        for key in kinds
    ]
    order = list(range(computers))
    rng.shuffle(order)
    position = 0
    for status, share in (
        (DeviceStatus.LOST, LOST),
        (DeviceStatus.STOLEN, STOLEN),
        (DeviceStatus.RETIRED, RETIRED),
        (DeviceStatus.IN_REPAIR, REPAIR),
    ):
        n = round(computers * share)
        for i in order[position : position + n]:
            devices[i].status = status
        position += n
    return devices, computers


def _hand_out(ctx, rng, devices: list[_Device], computers: int, students) -> None:
    """Usable computers to 95% of active students (touch first to PK-2 and those who need
    it), hotspots to students without home internet; the rest stay spares."""
    today = ctx.today

    def spare(d: _Device) -> bool:
        expires = d.model.auto_update_expiration
        return d.status == DeviceStatus.IN_STOCK and (expires is None or expires >= today)

    touch = [d for d in devices[:computers] if d.model.touchscreen and spare(d)]
    other = [d for d in devices[:computers] if not d.model.touchscreen and spare(d)]
    rng.shuffle(other)
    for pk, grade, needs, _internet, active in students:
        if not active or rng.random() >= HOLDS_DEVICE:
            continue
        pool = touch if (needs or grade <= Grade.G2) and touch else other
        if pool:
            device = pool.pop()
            device.status, device.holder = DeviceStatus.ASSIGNED, pk
    offline = [s[0] for s in students if s[3] == HomeInternet.NO and s[4]]
    rng.shuffle(offline)
    hotspots = devices[computers:]
    for device, student in zip(hotspots, offline[: int(len(hotspots) * 0.9)], strict=False):
        device.status, device.holder = DeviceStatus.ASSIGNED, student


def _history(ctx, rng, school: ScaleSchool, d: _Device, everyone: list, rows) -> None:
    """The device's events (and its assignments, past and open), oldest first."""
    today, tech, events = ctx.today, school.tech_id, rows["events"]
    hotspot = d.key == "hotspot"

    def event(kind, at, student=None, circumstance="", place="", note=""):
        events.append((d.pk, kind, at, tech, school.pk, student, circumstance, place, note))

    event(EventKind.CREATED, ctx.at(d.bought, 13))
    # Past school years: handed out in August, collected in June.
    for year in (ctx.school_year - 2, ctx.school_year - 1):
        if d.bought >= date(year, 8, 10) or (hotspot and rng.random() < 0.5):
            continue
        holder = rng.choice(everyone)
        out_day = date(year, 8, 20) + timedelta(days=between(rng, 0, 12))
        in_day = date(year + 1, 6, 2) + timedelta(days=between(rng, 0, 12))
        out_at = ctx.at(out_day, between(rng, 12, 20))
        in_at = ctx.at(in_day, between(rng, 12, 20))
        event(EventKind.CHECK_OUT, out_at, holder)
        event(EventKind.CHECK_IN, in_at, holder)
        if year == ctx.school_year - 1 and holder is not None:
            condition = ReturnCondition.WORN if rng.random() < 0.2 else ReturnCondition.GOOD
            rows["assignments"].append(
                (d.pk, holder, hotspot, out_at, tech, in_at, tech, condition, False, "", None, None)
            )
    if not hotspot and rng.random() < 0.1:  # repaired once before
        sent = d.bought + timedelta(days=between(rng, 1, max(1, (today - d.bought).days - 30)))
        back = min(today - timedelta(days=1), sent + timedelta(days=between(rng, 5, 20)))
        event(
            EventKind.REPAIR_SENT,
            ctx.at(sent),
            None,
            Circumstance.DAMAGED,
            "",
            rng.choice(REPAIR_NOTES),
        )
        event(EventKind.REPAIR_RETURNED, ctx.at(back))
    if rng.random() < 0.25 and d.status not in (DeviceStatus.LOST, DeviceStatus.STOLEN):
        event(EventKind.AUDIT_SEEN, ctx.at(ctx.weekday_back(between(rng, 5, 80)), 15))
    if d.status == DeviceStatus.ASSIGNED:
        day = date(ctx.school_year, 8, 20) + timedelta(days=between(rng, 0, 5))
        out_at = ctx.at(day, between(rng, 12, 20), between(rng, 0, 59))
        rows["assignments"].append(
            (d.pk, d.holder, hotspot, out_at, tech, None, None, "", False, "", None, None)
        )
        event(EventKind.CHECK_OUT, out_at, d.holder)
    elif d.status in (DeviceStatus.LOST, DeviceStatus.STOLEN):
        stolen = d.status == DeviceStatus.STOLEN
        when = ctx.at(today - timedelta(days=between(rng, 10, 300)), 20)
        event(
            EventKind.STOLEN if stolen else EventKind.LOST,
            when,
            None,
            Circumstance.STOLEN if stolen else Circumstance.LEFT_ON_TRANSIT,
            rng.choice(PLACES),
        )
    elif d.status == DeviceStatus.IN_REPAIR:
        when = ctx.at(today - timedelta(days=between(rng, 3, 40)))
        event(EventKind.REPAIR_SENT, when, None, Circumstance.DAMAGED, "", rng.choice(REPAIR_NOTES))
    elif d.status == DeviceStatus.RETIRED:
        when = ctx.at(today - timedelta(days=between(rng, 30, 200)))
        event(EventKind.RETIRED, when, note="Beyond repair")
