"""Demo inventory for the Riverbend district: one school above target, one at it, one
below; losses on transit; a model close to its auto-update expiration; students without
home internet, some of them with a hotspot. Runs once: a district with devices is left as is."""

from __future__ import annotations

import random
import struct
import zlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone

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
    ReturnCondition,
    Student,
)
from equity.year.models import (
    Acceptance,
    AcceptanceMethod,
    Charge,
    ChargeStatus,
    DamageKind,
    DeviceAgreement,
    PriceListEntry,
    Signer,
    StationEvent,
    StationKind,
)
from schools.funding import FundingSource
from schools.models import GRADE_BANDS, District, Grade, School, device_target

CATALOG = [
    # maker, name, kind, touch, price, auto-update expiration
    ("Acer", "Chromebook Spin 512", DeviceKind.CHROMEBOOK, True, "349.00", date(2031, 6, 1)),
    ("HP", "Chromebook 14 G7", DeviceKind.CHROMEBOOK, False, "279.00", date(2030, 6, 1)),
    ("Dell", "Chromebook 3100", DeviceKind.CHROMEBOOK, False, "249.00", "in 7 months"),
    ("Lenovo", "ThinkPad L13", DeviceKind.LAPTOP, False, "789.00", None),
    ("Kajeet", "SmartSpot 2", DeviceKind.HOTSPOT, False, "99.00", None),
]
# Fleet size against target: Maple above, Cedar at, Lakeview below.
FLEET = {"MGE": 1.26, "CRM": 1.155, "LVH": 0.93}  # before losses, repairs and retirements
NO_INTERNET_SHARE = {"MGE": 0.16, "CRM": 0.11, "LVH": 0.07}
PLACES = ["Route 12 bus", "Blue Line train", "Route 40 bus", "City library", "Bus stop on Elm St"]


def _aware(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def seed(district: District, schools: dict[str, School]) -> None:
    _seed_inventory(district, schools)
    seed_year(district, schools)


def _seed_inventory(district: District, schools: dict[str, School]) -> None:
    if Device.objects.filter(district=district).exists():
        return
    rng = random.Random(2026)
    today = timezone.localdate()
    models = {}
    for maker, name, kind, touch, price, aue in CATALOG:
        if aue == "in 7 months":  # the aging model: its updates end during next school year
            aue = (today + timedelta(days=213)).replace(day=1)
        models[name], _ = DeviceModel.objects.get_or_create(
            district=district,
            maker=maker,
            name=name,
            defaults={
                "kind": kind,
                "touchscreen": touch,
                "unit_price": Decimal(price),
                "auto_update_expiration": aue,
            },
        )
    for code, school in schools.items():
        students = _students(rng, district, school, NO_INTERNET_SHARE.get(code, 0.1))
        devices = _devices(rng, district, school, models, FLEET.get(code, 1.0), today)
        # The grade 6 handout at Cedar Ridge is under way (seed_year): those students wait.
        waiting = {s.pk for s in students if code == HANDOUT_SCHOOL and s.grade == Grade.G6}
        _history(rng, school, devices, students, today, waiting=waiting)


def _students(rng, district, school, no_internet_share) -> list[Student]:
    students = []
    n = 0
    for band, _label, low, high in GRADE_BANDS:
        grades = list(range(max(low, school.lowest_grade), min(high, school.highest_grade) + 1))
        for i in range(getattr(school, band)):
            n += 1
            roll = rng.random()
            internet = (
                HomeInternet.NO
                if roll < no_internet_share
                else HomeInternet.UNKNOWN
                if roll < no_internet_share + 0.04
                else HomeInternet.YES
            )
            students.append(
                Student(
                    district=district,
                    school=school,
                    local_id=f"{school.code}{n:05d}",
                    grade=grades[i % len(grades)],
                    needs_touch=rng.random() < 0.03,
                    home_internet=internet,
                    homeroom=f"{grades[i % len(grades)]}{'ABCD'[(i // len(grades)) % 4]}",
                    fee_waiver=rng.random() * 100 < (school.economically_disadvantaged_pct or 0),
                )
            )
    return Student.objects.bulk_create(students, batch_size=1000)


def _devices(rng, district, school, models, fleet_ratio, today) -> list[Device]:
    count = round(
        device_target(school.enrollment, district.device_planning_ratio) * fleet_ratio / 1.10
    )
    touch_needed = school.enrollment_pk_2
    devices = []
    for i in range(count):
        if i < touch_needed * 1.1:
            model = models["Chromebook Spin 512"]
        elif school.highest_grade >= 9 and i % 9 == 0:
            model = models["ThinkPad L13"]
        elif i % 3 == 0:
            model = models["Chromebook 3100"]  # the aging model, expiring within a year
        else:
            model = models["Chromebook 14 G7"]
        devices.append(_device(rng, district, school, model, f"{school.code}-{i + 1:05d}", today))
    hotspots = max(3, school.enrollment // 40)
    for i in range(hotspots):
        devices.append(
            _device(
                rng, district, school, models["SmartSpot 2"], f"{school.code}-H{i + 1:03d}", today
            )
        )
    return Device.objects.bulk_create(devices, batch_size=1000)


def _device(rng, district, school, model, tag, today) -> Device:
    bought = today - timedelta(days=rng.randint(200, 1400))
    return Device(
        district=district,
        school=school,
        model=model,
        maker=model.maker,
        asset_tag=tag,
        serial_number=f"{model.maker[:2].upper()}{rng.randrange(10**9, 10**10)}",
        purchase_date=bought,
        funding_source=rng.choice(
            [
                FundingSource.GENERAL_FUND,
                FundingSource.TITLE_I,
                FundingSource.E_RATE,
                FundingSource.GRANT,
            ]
        ),
    )


def _history(rng, school, devices, students, today, *, waiting=frozenset()) -> None:
    """Give the fleet a past: purchases, hand-outs, repairs, losses on transit, retirements."""
    events, assignments = [], []
    year_start = _aware(date(today.year if today.month >= 8 else today.year - 1, 8, 20))
    computers = [d for d in devices if d.model.kind != DeviceKind.HOTSPOT]
    hotspots = [d for d in devices if d.model.kind == DeviceKind.HOTSPOT]
    rng.shuffle(computers)
    for d in devices:
        events.append(
            DeviceEvent(device=d, kind=EventKind.CREATED, at=_aware(d.purchase_date), school=school)
        )

    losses = max(2, len(computers) // 60)
    lost, rest = computers[:losses], computers[losses:]
    for d in lost:
        at = _aware(today - timedelta(days=rng.randint(10, 300)), 16)
        stolen = rng.random() < 0.2
        d.status = DeviceStatus.STOLEN if stolen else DeviceStatus.LOST
        events.append(
            DeviceEvent(
                device=d,
                kind=EventKind.STOLEN if stolen else EventKind.LOST,
                at=at,
                school=school,
                circumstance=Circumstance.STOLEN if stolen else Circumstance.LEFT_ON_TRANSIT,
                place=rng.choice(PLACES),
            )
        )
    repairs, rest = rest[: max(1, len(rest) // 50)], rest[max(1, len(rest) // 50) :]
    for d in repairs:
        d.status = DeviceStatus.IN_REPAIR
        events.append(
            DeviceEvent(
                device=d,
                kind=EventKind.REPAIR_SENT,
                at=_aware(today - timedelta(days=rng.randint(3, 40))),
                school=school,
                circumstance=Circumstance.DAMAGED,
                note="Cracked screen",
            )
        )
    retired, rest = rest[: max(1, len(rest) // 80)], rest[max(1, len(rest) // 80) :]
    for d in retired:
        d.status = DeviceStatus.RETIRED
        events.append(
            DeviceEvent(
                device=d,
                kind=EventKind.RETIRED,
                at=_aware(today - timedelta(days=rng.randint(30, 200))),
                school=school,
                note="Beyond repair",
            )
        )

    usable = [d for d in rest if d.is_supported_on(today)]
    learners = [s for s in students if s.pk not in waiting]
    rng.shuffle(learners)
    for d, student in zip(usable, learners[: int(len(learners) * 0.82)], strict=False):
        d.status = DeviceStatus.ASSIGNED
        at = year_start + timedelta(minutes=rng.randint(0, 60 * 24 * 5))
        assignments.append(Assignment(device=d, student=student, checked_out_at=at))
        events.append(
            DeviceEvent(device=d, kind=EventKind.CHECK_OUT, at=at, school=school, student=student)
        )
    offline = [s for s in students if s.home_internet == HomeInternet.NO]
    for d, student in zip(hotspots, offline[: len(hotspots) - 1], strict=False):
        d.status = DeviceStatus.ASSIGNED
        at = year_start + timedelta(days=rng.randint(1, 30))
        assignments.append(
            Assignment(device=d, student=student, is_hotspot=True, checked_out_at=at)
        )
        events.append(
            DeviceEvent(device=d, kind=EventKind.CHECK_OUT, at=at, school=school, student=student)
        )

    Device.objects.bulk_update(devices, ["status"], batch_size=1000)
    Assignment.objects.bulk_create(assignments, batch_size=1000)
    DeviceEvent.objects.bulk_create(events, batch_size=1000)


# --- the device year ------------------------------------------------------------------

HANDOUT_SCHOOL = "CRM"  # grade 6 handout, half done
COLLECTION_SCHOOL = "LVH"  # grade 12 collection, some devices still out
AGREEMENT = """The device is lent to the student for learning; it stays the district's property.

1. Keep the device charged, in its case, and away from food, drinks and rain.
2. Do not lend it, sell it, or remove the asset tag.
3. Report damage, loss or theft to the school's tech office within two school days.
4. Return the device and its charger when the school asks, and when leaving the school.
5. Repair or replacement may carry a charge from the district's price list; families who
   qualify for a fee waiver are not charged."""
PRICES = [  # kind, amount for every model (per-model lines follow for losses)
    (DamageKind.SCREEN, "85.00"),
    (DamageKind.KEYBOARD, "45.00"),
    (DamageKind.OTHER_DAMAGE, "40.00"),
    (DamageKind.CHARGER, "25.00"),
    (DamageKind.LOSS, "250.00"),
]


def seed_year(district: District, schools: dict[str, School]) -> None:
    """A handout day half done at Cedar Ridge, a collection day with devices still out at
    Lakeview, the agreement, the price list and a few charges. Runs once per district."""
    if (
        HANDOUT_SCHOOL not in schools
        or COLLECTION_SCHOOL not in schools
        or StationEvent.objects.filter(school__district=district).exists()
    ):
        return
    rng = random.Random(2027)
    now = timezone.now()
    agreement, _ = DeviceAgreement.objects.get_or_create(
        district=district, version=1, defaults={"text": AGREEMENT}
    )
    PriceListEntry.objects.bulk_create(
        [PriceListEntry(district=district, kind=k, amount=Decimal(a)) for k, a in PRICES]
        + [
            PriceListEntry(
                district=district, kind=DamageKind.LOSS, device_model=m, amount=m.unit_price
            )
            for m in DeviceModel.objects.filter(district=district, unit_price__isnull=False)
        ]
    )
    _half_done_handout(rng, schools[HANDOUT_SCHOOL], agreement, now)
    _collection_with_missing(rng, schools[COLLECTION_SCHOOL], now)


def _half_done_handout(rng, school, agreement, now) -> None:
    event = StationEvent.objects.create(
        school=school,
        kind=StationKind.HANDOUT,
        name="Grade 6 handout",
        day=timezone.localdate(),
        grades=[Grade.G6],
    )
    holds = Assignment.objects.filter(student=OuterRef("pk"), checked_in_at__isnull=True)
    waiting = list(
        event.students().filter(~Exists(holds), needs_touch=False).order_by("homeroom", "local_id")
    )
    devices = list(
        Device.objects.filter(school=school, status=DeviceStatus.IN_STOCK)
        .exclude(model__kind=DeviceKind.HOTSPOT)
        .usable()
        .order_by("asset_tag")[: len(waiting) // 2]
    )
    assignments, events = [], []
    for i, (device, student) in enumerate(zip(devices, waiting, strict=False)):
        at = now - timedelta(minutes=2 * (len(devices) - i))
        device.status = DeviceStatus.ASSIGNED
        assignments.append(
            Assignment(device=device, student=student, checked_out_at=at, handout_event=event)
        )
        events.append(
            DeviceEvent(
                device=device, kind=EventKind.CHECK_OUT, at=at, school=school, student=student
            )
        )
    Device.objects.bulk_update(devices, ["status"])
    assignments = Assignment.objects.bulk_create(assignments)
    DeviceEvent.objects.bulk_create(events)
    # Most families signed at the table; some will accept through the link later.
    signature = _signature_png(rng)
    acceptances = []
    for a in assignments:
        if rng.random() < 0.7:
            acceptances.append(
                Acceptance(
                    assignment=a,
                    agreement=agreement,
                    method=AcceptanceMethod.SIGNED,
                    signer=Signer.FAMILY if rng.random() < 0.6 else Signer.STUDENT,
                    signature=signature,
                    accepted_at=a.checked_out_at,
                )
            )
        else:
            acceptances.append(Acceptance(assignment=a, agreement=agreement))
    Acceptance.objects.bulk_create(acceptances)


def _collection_with_missing(rng, school, now) -> None:
    event = StationEvent.objects.create(
        school=school,
        kind=StationKind.COLLECTION,
        name="Senior collection",
        day=timezone.localdate(),
        grades=[Grade.G12],
    )
    out = list(
        Assignment.objects.filter(
            device__school=school,
            checked_in_at__isnull=True,
            is_hotspot=False,
            student__grade=Grade.G12,
        )
        .select_related("device", "device__model", "student")
        .order_by("student__homeroom", "student__local_id")
    )
    back = out[: int(len(out) * 0.7)]  # the rest are still out: the follow-up list
    events, charges, devices = [], [], []
    for i, a in enumerate(back):
        at = now - timedelta(minutes=len(back) - i)
        roll = rng.random()
        condition = ReturnCondition.DAMAGED if roll < 0.06 else ReturnCondition.GOOD
        a.checked_in_at, a.condition_on_return, a.collection_event = at, condition, event
        a.charger_missing = rng.random() < 0.05
        a.return_note = "Cracked screen" if condition == ReturnCondition.DAMAGED else ""
        device = a.device
        device.status = (
            DeviceStatus.IN_REPAIR
            if condition == ReturnCondition.DAMAGED
            else DeviceStatus.IN_STOCK
        )
        devices.append(device)
        events.append(
            DeviceEvent(
                device=device, kind=EventKind.CHECK_IN, at=at, school=school, student=a.student,
                note=a.return_note,
            )
        )  # fmt: skip
        kinds = []
        if condition == ReturnCondition.DAMAGED:
            kinds.append((DamageKind.SCREEN, Decimal("85.00")))
            events.append(
                DeviceEvent(
                    device=device, kind=EventKind.REPAIR_SENT, at=at, school=school,
                    circumstance=Circumstance.DAMAGED, note=a.return_note,
                )
            )  # fmt: skip
        if a.charger_missing:
            kinds.append((DamageKind.CHARGER, Decimal("25.00")))
        for kind, amount in kinds:
            waived = a.student.fee_waiver
            charges.append(
                Charge(
                    device=device,
                    student=a.student,
                    assignment=a,
                    kind=kind,
                    amount=amount,
                    status=ChargeStatus.WAIVED if waived else ChargeStatus.DUE,
                    resolution_note="The student qualifies for a fee waiver." if waived else "",
                    resolved_at=at if waived else None,
                    created_at=at,
                )
            )
    # One senior also broke a device in the spring: a repeat case for the tech office.
    repeat = next((a for a in back if a.condition_on_return == ReturnCondition.DAMAGED), None)
    spare = (
        Device.objects.filter(school=school, status=DeviceStatus.IN_STOCK)
        .exclude(model__kind=DeviceKind.HOTSPOT)
        .exclude(pk__in=[d.pk for d in devices])
        .first()
    )
    if repeat and spare:
        out_at, in_at = now - timedelta(days=120), now - timedelta(days=90)
        Assignment.objects.create(
            device=spare,
            student=repeat.student,
            checked_out_at=out_at,
            checked_in_at=in_at,
            condition_on_return=ReturnCondition.DAMAGED,
            return_note="Keyboard spill",
        )
        events += [
            DeviceEvent(
                device=spare, kind=EventKind.CHECK_OUT, at=out_at, school=school,
                student=repeat.student,
            ),
            DeviceEvent(
                device=spare, kind=EventKind.CHECK_IN, at=in_at, school=school,
                student=repeat.student, note="Keyboard spill",
            ),
        ]  # fmt: skip
    Assignment.objects.bulk_update(
        back,
        [
            "checked_in_at",
            "condition_on_return",
            "collection_event",
            "charger_missing",
            "return_note",
        ],
    )
    Device.objects.bulk_update(devices, ["status"])
    DeviceEvent.objects.bulk_create(events)
    Charge.objects.bulk_create(charges)


def _signature_png(rng) -> bytes:
    """A small black-on-white scribble as a PNG (what the station's canvas stores)."""
    width, height = 240, 60
    rows = [[255] * width for _ in range(height)]
    y = height / 2
    for x in range(10, width - 10):
        y = min(height - 8, max(8, y + rng.uniform(-2.5, 2.5)))
        for dy in (-1, 0, 1):
            rows[int(y) + dy][x] = 0
    raw = b"".join(b"\x00" + bytes(row) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
