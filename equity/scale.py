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

from schools.funding import FundingSource
from schools.models import Grade
from schools.scale import ScaleContext, ScaleSchool

from .models import (
    Assignment,
    Circumstance,
    Device,
    DeviceAgreement,
    DeviceEvent,
    DeviceKind,
    DeviceModel,
    DeviceStatus,
    EventKind,
    HomeInternet,
    LeaveReason,
    PriceListEntry,
    ReturnCondition,
    Student,
)

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

STUDENT_FIELDS = [
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
            ctx.progress("equity", done, len(ctx.schools), started)
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


def _school(ctx, school: ScaleSchool, catalog, student_ids, device_ids, next_local, rows) -> int:
    """Append one school's students, devices, assignments and events to ``rows``."""
    rng = ctx.rng("equity", school.code)
    today, now = ctx.today, ctx.stamp(ctx.now)
    district = ctx.district.pk
    no_internet = 0.04 + float(school.econ_pct) / 100 * 0.14
    waiver = float(school.econ_pct) / 100

    # Students: (id, grade, needs_touch, home_internet, active)
    students = []
    for grade in sorted(school.grades):
        count = school.grades[grade]
        rooms = max(1, math.ceil(count / 25))
        label = Grade(grade).label
        for j in range(count):
            pk = next(student_ids)
            room = j % rooms
            homeroom = f"{label}{ROOMS[room]}" if rooms <= len(ROOMS) else f"{label}-{room + 1}"
            roll = rng.random()
            internet = (
                HomeInternet.NO
                if roll < no_internet
                else HomeInternet.UNKNOWN
                if roll < no_internet + 0.04
                else HomeInternet.YES
            )
            touch = rng.random() < 0.03
            active = rng.random() >= 0.02
            left_on = None if active else today - timedelta(days=rng.randint(1, 120))
            reason = "" if active else rng.choice([LeaveReason.TRANSFERRED, LeaveReason.WITHDRAWN])
            rows["students"].append(
                (
                    pk,
                    district,
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

    # Devices: the model of each, then the status mix.
    computers, hotspots = device_count(school)
    touch_students = sum(1 for _pk, g, t, _i, _a in students if t or g <= Grade.G2)
    young = school.band(Grade.PK, Grade.K)
    touch = min(computers, math.ceil(touch_students * DEVICES_PER_STUDENT))
    ipads = min(touch, math.ceil(young * DEVICES_PER_STUDENT))
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

    tech = school.tech_id
    devices = []  # (id, key, purchased)
    for key in kinds:
        pk = next(device_ids)
        model = catalog[key]
        bought = today - timedelta(days=rng.randint(60, 1100))
        devices.append([pk, key, bought, DeviceStatus.IN_STOCK, model])
        rows["events"].append(
            (pk, EventKind.CREATED, ctx.at(bought, 13), tech, school.pk, None, "", "", "")
        )

    order = list(range(computers))
    rng.shuffle(order)
    cuts = [round(computers * share) for share in (LOST, STOLEN, RETIRED, REPAIR)]
    position = 0
    for status, n in zip(
        (DeviceStatus.LOST, DeviceStatus.STOLEN, DeviceStatus.RETIRED, DeviceStatus.IN_REPAIR),
        cuts,
        strict=True,
    ):
        for i in order[position : position + n]:
            devices[i][3] = status
        position += n

    # Who holds what: touch devices to PK-2 and students who need touch first.
    aue_ok = {
        k
        for k, m in catalog.items()
        if not m.auto_update_expiration or m.auto_update_expiration >= today
    }
    spare_touch = [d for d in devices[:touch] if d[3] == DeviceStatus.IN_STOCK and d[1] in aue_ok]
    spare_other = [
        d for d in devices[touch:computers] if d[3] == DeviceStatus.IN_STOCK and d[1] in aue_ok
    ]
    rng.shuffle(spare_other)
    year_start = date(ctx.school_year, 8, 20)
    holders = {}
    for pk, grade, needs, _internet, active in students:
        if not active or rng.random() >= HOLDS_DEVICE:
            continue
        pool = spare_touch if (needs or grade <= Grade.G2) and spare_touch else spare_other
        if not pool:
            continue
        device = pool.pop()
        device[3] = DeviceStatus.ASSIGNED
        holders[device[0]] = pk
    offline = [s[0] for s in students if s[3] == HomeInternet.NO and s[4]]
    rng.shuffle(offline)
    for device, student in zip(devices[computers:], offline[: int(hotspots * 0.9)], strict=False):
        device[3] = DeviceStatus.ASSIGNED
        holders[device[0]] = student

    everyone = [s[0] for s in students] or [None]
    for pk, key, bought, status, _model in devices:
        student = holders.get(pk)
        hotspot = key == "hotspot"
        # Past school years: handed out in August, collected in June.
        for year in (ctx.school_year - 2, ctx.school_year - 1):
            if bought >= date(year, 8, 10) or (hotspot and rng.random() < 0.5):
                continue
            holder = rng.choice(everyone)
            out_day = date(year, 8, 20) + timedelta(days=rng.randint(0, 12))
            in_day = date(year + 1, 6, 2) + timedelta(days=rng.randint(0, 12))
            out_at, in_at = (
                ctx.at(out_day, rng.randint(12, 20)),
                ctx.at(in_day, rng.randint(12, 20)),
            )
            rows["events"].append(
                (pk, EventKind.CHECK_OUT, out_at, tech, school.pk, holder, "", "", "")
            )
            rows["events"].append(
                (pk, EventKind.CHECK_IN, in_at, tech, school.pk, holder, "", "", "")
            )
            if year == ctx.school_year - 1 and holder is not None:
                worn = rng.random() < 0.2
                rows["assignments"].append(
                    (
                        pk,
                        holder,
                        hotspot,
                        out_at,
                        tech,
                        in_at,
                        tech,
                        ReturnCondition.WORN if worn else ReturnCondition.GOOD,
                        False,
                        "",
                        None,
                        None,
                    )
                )
        if not hotspot and rng.random() < 0.1:  # repaired once in the past
            span = max(1, (today - bought).days - 30)
            sent = bought + timedelta(days=rng.randint(1, span))
            back = min(today - timedelta(days=1), sent + timedelta(days=rng.randint(5, 20)))
            note = rng.choice(REPAIR_NOTES)
            rows["events"].append(
                (
                    pk,
                    EventKind.REPAIR_SENT,
                    ctx.at(sent),
                    tech,
                    school.pk,
                    None,
                    Circumstance.DAMAGED,
                    "",
                    note,
                )
            )
            rows["events"].append(
                (pk, EventKind.REPAIR_RETURNED, ctx.at(back), tech, school.pk, None, "", "", "")
            )
        if rng.random() < 0.25 and status not in (DeviceStatus.LOST, DeviceStatus.STOLEN):
            seen = ctx.weekday_back(rng.randint(5, 80))
            rows["events"].append(
                (pk, EventKind.AUDIT_SEEN, ctx.at(seen, 15), tech, school.pk, None, "", "", "")
            )
        if status == DeviceStatus.ASSIGNED:
            out_at = ctx.at(
                year_start + timedelta(days=rng.randint(0, 5)),
                rng.randint(12, 20),
                rng.randint(0, 59),
            )
            rows["assignments"].append(
                (pk, student, hotspot, out_at, tech, None, None, "", False, "", None, None)
            )
            rows["events"].append(
                (pk, EventKind.CHECK_OUT, out_at, tech, school.pk, student, "", "", "")
            )
        elif status in (DeviceStatus.LOST, DeviceStatus.STOLEN):
            stolen = status == DeviceStatus.STOLEN
            when = ctx.at(today - timedelta(days=rng.randint(10, 300)), 20)
            rows["events"].append(
                (
                    pk,
                    EventKind.STOLEN if stolen else EventKind.LOST,
                    when,
                    tech,
                    school.pk,
                    None,
                    Circumstance.STOLEN if stolen else Circumstance.LEFT_ON_TRANSIT,
                    rng.choice(PLACES),
                    "",
                )
            )
        elif status == DeviceStatus.IN_REPAIR:
            when = ctx.at(today - timedelta(days=rng.randint(3, 40)))
            rows["events"].append(
                (
                    pk,
                    EventKind.REPAIR_SENT,
                    when,
                    tech,
                    school.pk,
                    None,
                    Circumstance.DAMAGED,
                    "",
                    rng.choice(REPAIR_NOTES),
                )
            )
        elif status == DeviceStatus.RETIRED:
            when = ctx.at(today - timedelta(days=rng.randint(30, 200)))
            rows["events"].append(
                (pk, EventKind.RETIRED, when, tech, school.pk, None, "", "", "Beyond repair")
            )
    for i, (pk, _key, bought, status, model) in enumerate(devices):
        tag = (
            f"{school.code}-H{i - computers + 1:04d}"
            if i >= computers
            else f"{school.code}-{i + 1:05d}"
        )
        rows["devices"].append(
            (
                pk,
                district,
                school.pk,
                model.pk,
                tag,
                f"{model.maker[:2].upper()}{pk:010d}",
                model.maker,
                status,
                bought,
                rng.choice(FUNDING),
                "",
                now,
                now,
            )
        )
    return next_local
