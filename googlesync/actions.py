"""Acting on Google from a device's page: disable a lost or stolen device, re-enable a
recovered one, write the asset tag and location to its annotated fields.

Google is asked first, outside any transaction (no row stays locked while Google thinks);
only its yes is recorded, in one transaction: Google's record here follows, and the
device's history gets a "Google Admin" event saying who asked and what Google answered. A
refusal, or Google out of reach, raises a ValidationError saying why, and nothing here
changes.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from equity.inventory.models import Device, DeviceEvent, DeviceStatus, EventKind

from .directory import DISABLE, REENABLE, Directory, GoogleProblem
from .models import GoogleConnection, GoogleDevice, GoogleStatus

# --- acting on Google ------------------------------------------------------------------------


def google_record(device: Device) -> GoogleDevice | None:
    """Google's record of a device the caller loaded through the scope."""
    return GoogleDevice.unscoped.filter(device=device).select_related("school").first()


def _fresh(device: Device) -> Device:
    """The device as it is now (the caller's copy may predate a report or a recovery)."""
    return Device.unscoped.select_related("school").get(pk=device.pk)


def _connection_of(record: GoogleDevice) -> GoogleConnection:
    connection = GoogleConnection.unscoped.filter(district_id=record.district_id).first()
    if connection is None or not connection.has_key:
        raise ValidationError("The district is not connected to Google.")
    return connection


DISABLE_FROM = {DeviceStatus.LOST, DeviceStatus.STOLEN}


def google_disable(*, device: Device, by) -> DeviceEvent:
    """Disable a lost or stolen device in Google, its notes saying the district's message.
    Google is asked first; only its yes is recorded (a no changes nothing here)."""
    device = _fresh(device)
    record = google_record(device)
    if record is None:
        raise ValidationError("Google has no record of this device.")
    if device.status not in DISABLE_FROM:
        raise ValidationError("Only a device reported lost or stolen is disabled in Google.")
    if record.status != GoogleStatus.ACTIVE:
        raise ValidationError(
            f"Google has it as {record.get_status_display().lower()}, not active."
        )
    connection = _connection_of(record)
    try:
        directory = Directory(connection, write=True)
        directory.annotate(record.google_id, {"notes": connection.lost_message})
        directory.change_status(record.google_id, DISABLE)
        status = directory.status_of(record.google_id)
    except GoogleProblem as exc:
        raise ValidationError(f"{exc} Nothing was changed in Pillarwise.") from None
    answer = (
        f"Disabled in Google Admin with the lost-device message. Google now reports it {status}."
    )
    return _record(device, record, by, {"status": status or GoogleStatus.DISABLED}, answer)


def google_reenable(*, device: Device, by) -> DeviceEvent:
    """Re-enable a recovered device in Google (and clear the lost-device message)."""
    device = _fresh(device)
    record = google_record(device)
    if record is None:
        raise ValidationError("Google has no record of this device.")
    if device.status in DISABLE_FROM:
        raise ValidationError("Record the device as recovered before re-enabling it.")
    if record.status != GoogleStatus.DISABLED:
        raise ValidationError("Google does not have it disabled.")
    connection = _connection_of(record)
    try:
        directory = Directory(connection, write=True)
        directory.change_status(record.google_id, REENABLE)
        directory.annotate(record.google_id, {"notes": ""})
        status = directory.status_of(record.google_id)
    except GoogleProblem as exc:
        raise ValidationError(f"{exc} Nothing was changed in Pillarwise.") from None
    answer = f"Re-enabled in Google Admin. Google now reports it {status}."
    return _record(device, record, by, {"status": status or GoogleStatus.ACTIVE}, answer)


def google_write_back(*, device: Device, by, location: str) -> DeviceEvent:
    """Write the asset tag and a location to the device's annotated fields in Google."""
    device = _fresh(device)
    record = google_record(device)
    if record is None:
        raise ValidationError("Google has no record of this device.")
    location = " ".join(location.split())
    if len(location) > 200:
        raise ValidationError({"location": "A location is at most 200 characters."})
    connection = _connection_of(record)
    try:
        answer = Directory(connection, write=True).annotate(
            record.google_id, {"annotatedAssetId": device.asset_tag, "annotatedLocation": location}
        )
    except GoogleProblem as exc:
        raise ValidationError(f"{exc} Nothing was changed in Pillarwise.") from None
    asset_id = answer.get("annotatedAssetId", "")
    place = answer.get("annotatedLocation", "")
    note = (
        f"Asset tag and location written to Google Admin. Google now has asset ID "
        f"{asset_id or '(none)'}, location {place or '(none)'}."
    )
    return _record(
        device, record, by, {"annotated_asset_id": asset_id, "annotated_location": place}, note
    )


@transaction.atomic
def _record(device: Device, record: GoogleDevice, by, changes: dict, note: str) -> DeviceEvent:
    """Google said yes: its record here follows, and the device's history says who asked
    and what Google answered."""
    GoogleDevice.unscoped.filter(pk=record.pk).update(**changes)
    event = DeviceEvent.unscoped.create(
        device=device,
        kind=EventKind.GOOGLE,
        by=by,
        at=timezone.now(),
        school_id=device.school_id,
        note=note,
    )
    return event
