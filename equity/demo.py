"""Demo inventory for the Riverbend district: one school above target, one at it, one
below; losses on transit; a model close to its auto-update expiration; students without
home internet, some of them with a hotspot. Runs once: a district with devices is left as is."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from schools.models import GRADE_BANDS, District, School, device_target

from .models import (
    Assignment,
    Circumstance,
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
        _history(rng, school, devices, students, today)


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


def _history(rng, school, devices, students, today) -> None:
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

    usable = [
        d
        for d in rest
        if d.model.auto_update_expiration is None or d.model.auto_update_expiration >= today
    ]
    learners = list(students)
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
