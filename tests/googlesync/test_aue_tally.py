"""The reports' "Updates stop within 12 months" reads the kept tally (googlesync.models.AueTally),
never every device of the district: each figure equals the direct computation over the
inventory on two shapes of data, after a sync that adds, changes and retires devices and
after the nightly count, for this year's window and a later one; the page reads no device
row for it, costs the same queries at two sizes and says when it was counted."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection as db
from django.db.models import Count, Min
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from equity.inventory import services as inventory
from equity.inventory.models import (
    Device,
    DeviceStatus,
    applicable_expiration,
    expires_before,
    supported_q,
)
from googlesync import selectors, services, views
from googlesync.models import AueCounted, AueTally
from googlesync.selectors import AUE_HORIZON_DAYS
from googlesync.tasks import count_aue_all_districts
from tests.factories import (
    DeviceFactory,
    DeviceModelFactory,
    DistrictFactory,
    SchoolFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db


def direct(district, today):
    """The figure computed from the inventory itself, as the page did before the tally."""
    return list(
        Device.unscoped.filter(district=district)
        .exclude(status=DeviceStatus.RETIRED)
        .filter(supported_q(today) & expires_before(today + timedelta(days=AUE_HORIZON_DAYS)))
        .values("school_id", "school__name")
        .annotate(devices=Count("pk"), first=Min(applicable_expiration()))
        .order_by("first", "school__name", "school_id")
    )


def assert_kept_equals_direct(district, *days):
    for today in days:
        expected = direct(district, today)
        kept = list(selectors.aue_soon_by_school(district, today=today))
        assert kept == expected, today
        total = selectors.aue_soon_total(district, today=today)
        assert total == {
            "devices": sum(r["devices"] for r in expected),
            "schools": len(expected),
        }, today


def _month(today, months):
    return (today.replace(day=1) + timedelta(days=31 * months)).replace(day=1)


def test_a_sync_that_adds_changes_and_retires_devices_keeps_the_tally_equal(
    google, connection, district, maple, cedar
):
    """One shape: two schools, model dates and the devices' own dates, dates past, inside
    and beyond the year, no date at all, retired devices and another kind of device."""
    today = timezone.localdate()
    soon, later, past = _month(today, 3), _month(today, 20), _month(today, -2)
    expiring = DeviceModelFactory(district=district, auto_update_expiration=soon)
    lasting = DeviceModelFactory(district=district, auto_update_expiration=later)
    undated = DeviceModelFactory(district=district, kind="laptop")
    tablet = DeviceModelFactory(district=district, kind="tablet", auto_update_expiration=soon)
    for i in range(3):
        DeviceFactory(school=maple, model=expiring, serial_number=f"SN-E{i}")
        DeviceFactory(school=cedar, model=lasting, serial_number=f"SN-L{i}")
    DeviceFactory(school=maple, model=lasting, auto_update_expiration=_month(today, 5))
    DeviceFactory(school=cedar, model=expiring, auto_update_expiration=later)  # its own wins
    DeviceFactory(school=cedar, model=undated)
    DeviceFactory(school=cedar, model=expiring, auto_update_expiration=past)
    DeviceFactory(school=maple, model=tablet)
    DeviceFactory(school=maple, model=expiring, status=DeviceStatus.RETIRED)
    out = DeviceFactory(school=cedar, model=expiring, serial_number="SN-OUT")
    inventory.device_check_out(device=out, student=StudentFactory(school=cedar), by=None)

    # Google: two new Chromebooks (one expiring this year), a later date for a known one,
    # one moved to Cedar, one deprovisioned (retired here).
    google.add("SN-NEW1", ou="/Students/Maple", aue=_month(today, 7).isoformat())
    google.add("SN-NEW2", ou="/Students/Cedar", aue=later.isoformat())
    google.add("SN-E0", ou="/Students/Maple", aue=later.isoformat())
    google.add("SN-E1", ou="/Students/Cedar", aue=soon.isoformat())
    google.add("SN-E2", ou="/Students/Maple", status="DEPROVISIONED", aue=soon.isoformat())
    google.add("SN-L0", ou="/Students/Cedar", aue=_month(today, 1).isoformat())
    result = services.sync(connection)
    assert (result.created, result.retired) == (2, 1)

    counted = AueCounted.unscoped.get(district=district).counted_at
    assert timezone.now() - counted < timedelta(minutes=1)
    assert AueTally.unscoped.filter(district=district).exists()
    assert_kept_equals_direct(district, today, _month(today, 4), _month(today, 12), past)
    assert direct(district, today), "the shape has devices expiring this year"


def test_a_dry_run_leaves_the_tally_as_it_was(google, connection, district, maple):
    model = DeviceModelFactory(district=district, auto_update_expiration=date(2027, 6, 1))
    DeviceFactory(school=maple, model=model)
    services.count_aue(district_id=district.pk)
    before = list(AueTally.unscoped.values_list("school_id", "expires_on", "devices"))
    google.add("SN-D1", ou="/Students/Maple", aue="2027-06-01")
    services.sync(connection, dry_run=True)
    assert list(AueTally.unscoped.values_list("school_id", "expires_on", "devices")) == before


def test_the_nightly_count_follows_the_inventory_in_many_schools(district, maple):
    """The other shape: twelve schools of one district and a second district, the devices
    spread over eight dates, changes made in the inventory after a count (shown as of that
    count until the next one), then the nightly count of every district."""
    today = timezone.localdate()
    schools = [maple] + [SchoolFactory(district=district) for _ in range(11)]
    models = [
        DeviceModelFactory(district=district, auto_update_expiration=_month(today, m))
        for m in (-1, 0, 2, 6, 11, 13, 30)
    ] + [DeviceModelFactory(district=district)]
    devices = []
    for i, school in enumerate(schools):
        for j in range(i % 5 + 1):
            own = _month(today, j + 1) if (i + j) % 4 == 0 else None
            status = DeviceStatus.RETIRED if (i * j) % 7 == 3 else DeviceStatus.IN_STOCK
            devices.append(
                DeviceFactory(
                    school=school,
                    model=models[(i + j) % len(models)],
                    auto_update_expiration=own,
                    status=status,
                )
            )
    other = SchoolFactory()
    DeviceFactory(school=other, model__auto_update_expiration=_month(today, 2))
    empty = DistrictFactory()

    assert count_aue_all_districts() >= 3
    assert_kept_equals_direct(district, today, _month(today, 6), _month(today, 20))
    assert_kept_equals_direct(other.district, today)
    assert AueCounted.unscoped.filter(district=empty).exists()
    assert not AueTally.unscoped.filter(district=empty).exists()

    # The inventory changes; the report is as of the last count until the next one.
    Device.unscoped.filter(pk=devices[0].pk).update(status=DeviceStatus.RETIRED)
    Device.unscoped.filter(pk=devices[1].pk).update(school=schools[5])
    Device.unscoped.filter(pk=devices[2].pk).update(auto_update_expiration=_month(today, 1))
    models[3].auto_update_expiration = _month(today, 1)
    models[3].save()
    DeviceFactory(school=schools[7], model=models[2])
    assert list(selectors.aue_soon_by_school(district, today=today)) != direct(district, today)
    count_aue_all_districts()
    assert_kept_equals_direct(district, today, _month(today, 6), _month(today, 20))


def test_the_report_reads_the_tally_pages_its_schools_and_says_when(
    district, maple, cedar, district_admin, login, monkeypatch
):
    today = timezone.localdate()
    model = DeviceModelFactory(district=district, auto_update_expiration=_month(today, 4))
    url = reverse("googlesync:reports", args=[district.pk])
    client = login(district_admin)
    text = re.sub(r"\s+", " ", client.get(url).content.decode())
    assert "Not counted yet" in text

    def grow(n):
        for school in (maple, cedar):
            for _ in range(n):
                DeviceFactory(school=school, model=model)
        services.count_aue(district_id=district.pk)

    grow(1)
    client.get(url)
    with CaptureQueriesContext(db) as small:
        client.get(url)
    grow(6)
    with CaptureQueriesContext(db) as large:
        page = client.get(url).content.decode()
    assert len(large) == len(small)
    # No device is grouped or counted by its expiration for this figure: the tally is read.
    assert not [q for q in large if 'COALESCE("equity_device"."auto_update_expiration"' in q["sql"]]
    assert [q for q in large if '"googlesync_auetally"' in q["sql"]]
    text = re.sub(r"\s+", " ", page)
    assert "Updates stop within 12 months (14 devices at 2 schools)" in text
    assert "Counted " in text and "at the end of each sync and every night" in text

    monkeypatch.setattr(views, "SCHOOLS_PER_PAGE", 1)
    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    names = {maple.name, cedar.name}
    shown = [n for n in names if f">{n}</a>" in first], [n for n in names if f">{n}</a>" in second]
    assert len(shown[0]) == len(shown[1]) == 1 and set(shown[0] + shown[1]) == names
    assert "page=2" in first and "page=1" in second
