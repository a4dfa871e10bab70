"""The usable-device rule, written once (``equity.inventory.models.usable_q``): in stock or
assigned, and not past the auto-update expiration that applies (the device's own date, else
its model's; none known counts as supported). Coverage, readiness, the benchmark's floor and
check-out all ask it; the last test keeps anyone from writing it again elsewhere."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import BooleanField, Count, ExpressionWrapper
from django.utils import timezone

from equity.inventory.models import Device, DeviceStatus, usable_q
from tests.factories import DeviceFactory, DeviceModelFactory

pytestmark = pytest.mark.django_db

ON = date(2030, 6, 15)
BEFORE, AFTER = ON - timedelta(days=1), ON + timedelta(days=1)

# (status, the device's own date, its model's date) -> usable on ON
CASES = [
    (DeviceStatus.IN_STOCK, None, None, True),
    (DeviceStatus.ASSIGNED, None, None, True),
    (DeviceStatus.IN_REPAIR, None, None, False),
    (DeviceStatus.LOST, None, None, False),
    (DeviceStatus.STOLEN, None, None, False),
    (DeviceStatus.RETIRED, None, None, False),
    (DeviceStatus.IN_STOCK, None, ON, True),  # the last day of updates still counts
    (DeviceStatus.IN_STOCK, None, BEFORE, False),  # the model's date applies
    (DeviceStatus.IN_STOCK, None, AFTER, True),
    (DeviceStatus.IN_STOCK, AFTER, BEFORE, True),  # the device's own date wins, either way
    (DeviceStatus.ASSIGNED, BEFORE, AFTER, False),
    (DeviceStatus.IN_STOCK, ON, None, True),
    (DeviceStatus.IN_STOCK, BEFORE, None, False),
    (DeviceStatus.IN_REPAIR, AFTER, AFTER, False),  # a date never makes a status usable
]


@pytest.fixture
def devices(maple):
    made = {}
    for i, (status, own, of_model, usable) in enumerate(CASES):
        model = DeviceModelFactory(district=maple.district, auto_update_expiration=of_model)
        device = DeviceFactory(school=maple, model=model, status=status, auto_update_expiration=own)
        made[device.pk] = (i, usable)
    return made


def test_the_queryset_method_keeps_exactly_the_usable_devices(devices):
    expected = {pk for pk, (_i, usable) in devices.items() if usable}
    assert set(Device.objects.usable(ON).values_list("pk", flat=True)) == expected


def test_the_expression_counts_the_same_in_one_aggregate_and_flags_each_row(devices):
    counted = Device.objects.aggregate(
        usable=Count("pk", filter=usable_q(ON)), others=Count("pk", filter=~usable_q(ON))
    )
    usable = sum(1 for _i, u in devices.values() if u)
    assert counted == {"usable": usable, "others": len(devices) - usable}
    flags = Device.objects.annotate(
        usable=ExpressionWrapper(usable_q(ON), output_field=BooleanField())
    ).values_list("pk", "usable")
    assert dict(flags) == {pk: u for pk, (_i, u) in devices.items()}


def test_one_device_answers_as_the_rule_does(devices):
    for device in Device.objects.select_related("model"):
        index, usable = devices[device.pk]
        in_service = device.status in (DeviceStatus.IN_STOCK, DeviceStatus.ASSIGNED)
        assert (in_service and device.is_supported_on(ON)) is usable, CASES[index]


def test_today_is_the_default_day(maple):
    today = timezone.localdate()
    today_model = DeviceModelFactory(district=maple.district, auto_update_expiration=today)
    past = DeviceModelFactory(
        district=maple.district, auto_update_expiration=today - timedelta(days=400)
    )
    current = DeviceFactory(school=maple, model=today_model)
    DeviceFactory(school=maple, model=past)
    assert list(Device.objects.usable()) == [current]


# --- written once ---------------------------------------------------------------------------

ROOT = Path(settings.BASE_DIR)
HOME = ROOT / "equity" / "inventory" / "models.py"
# A query or SQL that decides by itself whether a device is usable or expired.
RESTATEMENTS = [
    re.compile(r"auto_update_expiration__(gte|gt|lte|lt|isnull|range)\b"),
    re.compile(r"auto_update_expiration\W{0,3}\s*(>=|<=|>|<|IS\s+(NOT\s+)?NULL)", re.I),
    re.compile(r"status__in\s*=\s*USABLE_STATUSES"),
    re.compile(r"status\s+IN\s*\(\s*'in_stock',\s*'assigned'\s*\)", re.I),
]
SCANNED = ["accounts", "audit", "bench", "equity", "initiatives", "pd", "readiness", "schools"]
SCANNED += ["stakeholders"]


def test_no_other_module_writes_the_rule_again():
    found = []
    for app in SCANNED:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or path == HOME:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if any(pattern.search(line) for pattern in RESTATEMENTS):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], (
        "use equity.inventory.models.usable_q / Device.objects.usable() (or supported_q, "
        "expires_before) instead of writing the rule again:\n" + "\n".join(found)
    )
