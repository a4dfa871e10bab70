"""What the Google pages read, each at a fixed number of queries whatever the fleet's size."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from equity.inventory.models import Device, DeviceKind, DeviceModel, DeviceStatus

from .models import AueCounted, AueTally, GoogleDevice, GoogleStatus, OrgUnit, school_for

SHOWN = 100  # rows of each list on a page; the count says how many in all
NOT_SEEN_DAYS = 90
AUE_HORIZON_DAYS = 365


def not_seen(district, *, days: int = NOT_SEEN_DAYS):
    """Active devices Google has not seen sync for ``days`` days (or ever): likely lost, or
    in a drawer."""
    cutoff = timezone.now() - timedelta(days=days)
    return (
        GoogleDevice.objects.filter(district=district, status=GoogleStatus.ACTIVE)
        .filter(Q(last_sync__lt=cutoff) | Q(last_sync__isnull=True))
        .select_related("device", "school")
        .order_by(F("last_sync").asc(nulls_first=True), "serial_number")
    )


def aue_soon_by_school(district, *, today=None):
    """Per school: devices whose updates stop within 12 months (the procurement forecast's
    replacements), by the device's own date when Google gave one; soonest first. Read from
    the district's ``AueTally`` (counted at each sync and each night), the rows of the
    coming year only, so a million devices cost what a few do."""
    today = today or timezone.localdate()
    return (
        AueTally.objects.filter(
            district=district,
            expires_on__gte=today,
            expires_on__lt=today + timedelta(days=AUE_HORIZON_DAYS),
        )
        .values("school_id", "school__name")
        .annotate(devices=Sum("devices"), first=Min("expires_on"))
        .order_by("first", "school__name", "school_id")
    )


def aue_soon_total(district, *, today=None) -> dict:
    """The whole district's figure of ``aue_soon_by_school``: devices and schools."""
    today = today or timezone.localdate()
    return AueTally.objects.filter(
        district=district,
        expires_on__gte=today,
        expires_on__lt=today + timedelta(days=AUE_HORIZON_DAYS),
    ).aggregate(devices=Coalesce(Sum("devices"), 0), schools=Count("school", distinct=True))


def aue_counted_at(district):
    """When the district's tally was last counted (None: never)."""
    return AueCounted.objects.filter(district=district).values_list("counted_at", flat=True).first()


def assigned_elsewhere(district):
    """Devices checked out here at one school whose Google org unit maps to another."""
    return (
        GoogleDevice.objects.filter(
            district=district, device__status=DeviceStatus.ASSIGNED, school__isnull=False
        )
        .exclude(school=F("device__school"))
        .select_related("device", "device__school", "school")
        .order_by("serial_number")
    )


def only_in_google(district):
    """Google's devices that are not in the inventory (their org unit maps to no school)."""
    return (
        GoogleDevice.objects.filter(district=district, device__isnull=True)
        .exclude(status=GoogleStatus.DEPROVISIONED)
        .order_by("org_unit_path", "serial_number")
    )


def only_in_pillarwise(district):
    """The inventory's Chromebooks Google does not list (after a full sync).

    The catalog's Chromebook models are read first (one query) and named by id: a catalog
    of a few rows is never analysed by autovacuum, so through a join the planner guessed
    one device in 200 was a Chromebook and counted the first thousand with a parallel scan
    of the table (15 ms at a million devices, instead of 1 ms through the devices' own
    statistics of their model)."""
    chromebooks = list(
        DeviceModel.objects.filter(district=district, kind=DeviceKind.CHROMEBOOK).values_list(
            "pk", flat=True
        )
    )
    return (
        Device.objects.filter(district=district, model_id__in=chromebooks)
        .exclude(status=DeviceStatus.RETIRED)
        .exclude(
            pk__in=GoogleDevice.objects.filter(district=district, device__isnull=False).values(
                "device_id"
            )
        )
        .select_related("school")
        .order_by("asset_tag")
    )


def org_units(district):
    return OrgUnit.objects.filter(district=district).select_related("school")


def org_unit_rows(district) -> list[tuple[OrgUnit, int | None]]:
    """Each org unit Google reported or a person mapped, with the school its devices go to
    (its own mapping or the nearest one above it; None: unmapped)."""
    units = list(org_units(district))
    mapped = {u.path: u.school_id for u in units if u.school_id}
    return [(u, school_for(u.path, mapped)) for u in units]
