"""Writes of the equity app. Each validates first and writes in one transaction; each
change to a device records a DeviceEvent, so the device page tells its whole story."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from core import auditlog as audit_log
from schools.models import School
from schools.permissions import schools_for
from schools.scoping import activate
from schools.signals import evidence_changed

from ..permissions import can_handle_devices
from .models import (
    Assignment,
    Circumstance,
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceStatus,
    EventKind,
    ReturnCondition,
    Student,
)

# Which statuses each action may start from.
CAN_CHECK_OUT = {DeviceStatus.IN_STOCK}
CAN_REPORT_MISSING = {DeviceStatus.IN_STOCK, DeviceStatus.ASSIGNED, DeviceStatus.IN_REPAIR}
CAN_RECOVER = {DeviceStatus.LOST, DeviceStatus.STOLEN}
CAN_SEND_TO_REPAIR = {DeviceStatus.IN_STOCK, DeviceStatus.ASSIGNED}


def _locked(device: Device) -> Device:
    """Re-read the device under a row lock so two people cannot act on it at once.

    Call it inside a transaction (every caller is atomic): the lock lasts until it ends."""
    return Device.objects.select_for_update().select_related("model", "school").get(pk=device.pk)


def _event(device: Device, kind: str, by, at=None, **fields) -> DeviceEvent:
    return DeviceEvent.objects.create(
        device=device,
        kind=kind,
        by=by,
        at=at or timezone.now(),
        school_id=device.school_id,
        **fields,
    )


def _announce(device: Device) -> None:
    """The device's status or holder changed: readiness evidence (the device carries its
    district, so the listener needs no query)."""
    evidence_changed.send(sender=Device, district_ids=[device.district_id])


def _close_open_assignment(
    device: Device, *, by, at, condition: str = "", **extra
) -> Assignment | None:
    assignment = Assignment.objects.filter(device=device, checked_in_at__isnull=True).first()
    if assignment:
        assignment.checked_in_at = at
        assignment.checked_in_by = by
        assignment.condition_on_return = condition
        for field, value in extra.items():
            setattr(assignment, field, value)
        assignment.save(
            update_fields=["checked_in_at", "checked_in_by", "condition_on_return", *extra]
        )
    return assignment


@transaction.atomic
def device_check_out(
    *, device: Device, student: Student, by, at=None, handout_event=None
) -> Assignment:
    """Hand a device to a student (at a handout day's station, if ``handout_event``)."""
    at = at or timezone.now()
    device = _locked(device)
    if device.status not in CAN_CHECK_OUT:
        if device.status == DeviceStatus.ASSIGNED:
            raise ValidationError({"asset_tag": f"{device.asset_tag} is already checked out."})
        state = device.get_status_display().lower()
        raise ValidationError({"asset_tag": f"{device.asset_tag} is {state}; it cannot go out."})
    if not device.is_supported_on(at.date()):
        until = date_format(device.aue, "YEAR_MONTH_FORMAT")
        msg = f"{device.asset_tag} is past its auto-update expiration ({until})."
        raise ValidationError({"asset_tag": msg})
    if not student.active:
        raise ValidationError({"student_id": f"Student {student.local_id} is no longer enrolled."})
    if student.school_id != device.school_id:
        msg = f"{device.asset_tag} belongs to {device.school}; the student is at {student.school}."
        raise ValidationError({"asset_tag": msg})
    is_hotspot = device.model.kind == DeviceKind.HOTSPOT
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                device=device,
                student=student,
                is_hotspot=is_hotspot,
                checked_out_at=at,
                checked_out_by=by,
                handout_event=handout_event,
            )
    except IntegrityError:
        what = "a hotspot" if is_hotspot else "a device"
        raise ValidationError(
            {"student_id": f"Student {student.local_id} already has {what} checked out."}
        ) from None
    device.status = DeviceStatus.ASSIGNED
    device.save(update_fields=["status", "updated_at"])
    _announce(device)
    _event(device, EventKind.CHECK_OUT, by, at, student=student)
    return assignment


@transaction.atomic
def device_check_in(
    *,
    device: Device,
    by,
    condition: str = ReturnCondition.GOOD,
    note: str = "",
    at=None,
    charger_missing: bool = False,
    collection_event=None,
):
    """Take a device back. A damaged device goes straight to repair."""
    at = at or timezone.now()
    device = _locked(device)
    assignment = _close_open_assignment(
        device,
        by=by,
        at=at,
        condition=condition,
        charger_missing=charger_missing,
        return_note=note[:300],
        collection_event=collection_event,
    )
    if assignment is None:
        raise ValidationError({"asset_tag": f"{device.asset_tag} is not checked out."})
    _event(device, EventKind.CHECK_IN, by, at, student=assignment.student, note=note)
    if condition == ReturnCondition.DAMAGED:
        device.status = DeviceStatus.IN_REPAIR
        _event(device, EventKind.REPAIR_SENT, by, at, circumstance=Circumstance.DAMAGED, note=note)
    else:
        device.status = DeviceStatus.IN_STOCK
    device.save(update_fields=["status", "updated_at"])
    _announce(device)
    return assignment


@transaction.atomic
def device_report_missing(
    *,
    device: Device,
    by,
    stolen: bool = False,
    circumstance: str = "",
    place: str = "",
    note: str = "",
    at=None,
) -> DeviceEvent:
    """Report a device lost or stolen; its open assignment (if any) ends."""
    at = at or timezone.now()
    device = _locked(device)
    if device.status not in CAN_REPORT_MISSING:
        raise ValidationError(f"{device.asset_tag} is {device.get_status_display().lower()}.")
    if stolen:
        circumstance = Circumstance.STOLEN
    if not circumstance:
        raise ValidationError({"circumstance": "Say what happened."})
    assignment = _close_open_assignment(device, by=by, at=at)
    device.status = DeviceStatus.STOLEN if stolen else DeviceStatus.LOST
    device.save(update_fields=["status", "updated_at"])
    _announce(device)
    return _event(
        device,
        EventKind.STOLEN if stolen else EventKind.LOST,
        by,
        at,
        student=assignment.student if assignment else None,
        circumstance=circumstance,
        place=place,
        note=note,
    )


@transaction.atomic
def device_recover(*, device: Device, by, note: str = "", at=None) -> DeviceEvent:
    device = _locked(device)
    if device.status not in CAN_RECOVER:
        raise ValidationError(f"{device.asset_tag} was not missing.")
    device.status = DeviceStatus.IN_STOCK
    device.save(update_fields=["status", "updated_at"])
    _announce(device)
    return _event(device, EventKind.RECOVERED, by, at, note=note)


@transaction.atomic
def device_send_to_repair(*, device: Device, by, note: str = "", at=None) -> DeviceEvent:
    at = at or timezone.now()
    device = _locked(device)
    if device.status not in CAN_SEND_TO_REPAIR:
        raise ValidationError(f"{device.asset_tag} is {device.get_status_display().lower()}.")
    _close_open_assignment(device, by=by, at=at, condition=ReturnCondition.DAMAGED)
    device.status = DeviceStatus.IN_REPAIR
    device.save(update_fields=["status", "updated_at"])
    _announce(device)
    return _event(
        device, EventKind.REPAIR_SENT, by, at, circumstance=Circumstance.DAMAGED, note=note
    )


@transaction.atomic
def device_return_from_repair(*, device: Device, by, note: str = "", at=None) -> DeviceEvent:
    device = _locked(device)
    if device.status != DeviceStatus.IN_REPAIR:
        raise ValidationError(f"{device.asset_tag} is not in repair.")
    device.status = DeviceStatus.IN_STOCK
    device.save(update_fields=["status", "updated_at"])
    _announce(device)
    return _event(device, EventKind.REPAIR_RETURNED, by, at, note=note)


@transaction.atomic
def device_record_seen(*, device: Device, by, at=None) -> DeviceEvent:
    """A physical audit saw this device."""
    return _event(device, EventKind.AUDIT_SEEN, by, at)


class AuditScan(NamedTuple):
    outcome: str  # "unknown", "again", "seen" or "seen_missing"
    device: Device | None


def audit_scan(*, school: School, asset_tag: str, since, by) -> AuditScan:
    """Record one scanned tag in the audit that began at ``since``, once per device."""
    device = Device.objects.filter(school=school, asset_tag__iexact=asset_tag).first()
    if device is None:
        return AuditScan("unknown", None)
    if DeviceEvent.objects.filter(device=device, kind=EventKind.AUDIT_SEEN, at__gte=since).exists():
        return AuditScan("again", device)
    device_record_seen(device=device, by=by)
    missing = device.status in (DeviceStatus.LOST, DeviceStatus.STOLEN)
    return AuditScan("seen_missing" if missing else "seen", device)


def device_move_refusal(asset_tag: str, status: str) -> str | None:
    """Why a device may not change school now (None: it may). Asked by ``devices_move`` and
    by the bulk path (the importer) alike: a device out with a student stays where it is."""
    if status == DeviceStatus.ASSIGNED:
        return f"{asset_tag} is checked out; check it in before moving it"
    return None


@transaction.atomic
def devices_move(*, devices: Iterable[Device], school: School, by, at=None) -> int:
    """Move devices to another school of the same district (not ones out with a student)."""
    at = at or timezone.now()
    devices = list(Device.objects.select_for_update().filter(pk__in=[d.pk for d in devices]))
    errors = []
    for device in devices:
        if device.district_id != school.district_id:
            errors.append(f"{device.asset_tag} belongs to another district.")
        elif refusal := device_move_refusal(device.asset_tag, device.status):
            errors.append(f"{refusal}.")
    if errors:
        raise ValidationError(errors)
    moved = [d for d in devices if d.school_id != school.pk]
    # Two events: the leaving, seen by the school it left, and the arrival, seen by the new
    # school (each school sees only the events that happened there).
    DeviceEvent.objects.bulk_create(
        event
        for d in moved
        for event in (
            DeviceEvent(
                device=d,
                kind=EventKind.MOVED,
                by=by,
                at=at,
                school_id=d.school_id,
                note=f"to {school.name}",
            ),
            DeviceEvent(device=d, kind=EventKind.ARRIVED, by=by, at=at, school_id=school.pk),
        )
    )
    Device.objects.filter(pk__in=[d.pk for d in moved]).update(school=school, updated_at=at)
    if moved:
        evidence_changed.send(sender=Device, district_ids={school.district_id})
    return len(moved)


@transaction.atomic
def devices_retire(*, devices: Iterable[Device], by, note: str = "", at=None) -> int:
    """Retire devices (end of life, beyond repair). A checked-out device cannot be retired."""
    at = at or timezone.now()
    devices = list(Device.objects.select_for_update().filter(pk__in=[d.pk for d in devices]))
    busy = [d.asset_tag for d in devices if d.status == DeviceStatus.ASSIGNED]
    if busy:
        raise ValidationError(
            [f"{tag} is checked out; check it in before retiring it." for tag in busy]
        )
    retiring = [d for d in devices if d.status != DeviceStatus.RETIRED]
    DeviceEvent.objects.bulk_create(
        DeviceEvent(
            device=d, kind=EventKind.RETIRED, by=by, at=at, school_id=d.school_id, note=note
        )
        for d in retiring
    )
    Device.objects.filter(pk__in=[d.pk for d in retiring]).update(
        status=DeviceStatus.RETIRED, updated_at=at
    )
    evidence_changed.send(sender=Device, district_ids={d.district_id for d in retiring})
    return len(retiring)


BULK_MOVE, BULK_RETIRE = "move", "retire"


class BulkDone(NamedTuple):
    count: int
    action: str  # BULK_MOVE or BULK_RETIRE
    school: School | None  # where they moved


def devices_bulk_action(
    *,
    access,
    ids: list[int],
    action: str,
    by,
    school: School | None = None,
    note: str = "",
) -> BulkDone:
    """Move or retire the devices ``ids`` for ``access``: all of them, or none.

    None when one of them is outside the user's scope (recorded as a refusal; the answer
    says how many, nothing about them), at a school where the user may not handle devices
    (``equity.permissions.can_handle_devices``, asked here, not by the caller), or refused
    by ``devices_move`` / ``devices_retire``. Every refusal is a ValidationError whose
    messages are whole sentences for the user."""
    with activate(access):  # what this person sees, whoever calls (a page, a task)
        devices = list(Device.objects.filter(pk__in=ids).select_related("school"))
    if len(devices) != len(ids):
        missing = len(ids) - len(devices)
        audit_log.record(
            audit_log.Kind.DENIED_SCOPE,
            object_type="equity.device",
            detail=f"bulk action: {missing} of {len(ids)} ids outside scope",
        )
        raise ValidationError(
            f"{missing} of the {len(ids)} selected devices {'is' if missing == 1 else 'are'} "
            "not in your schools, so nothing was changed."
        )
    if not access.unrestricted:
        writable = schools_for(access, can_handle_devices)
        locked_out = sorted({d.school.name for d in devices if d.school_id not in writable})
        if locked_out:
            raise ValidationError(
                f"Your role does not allow changing devices at {', '.join(locked_out)}, "
                "so nothing was changed."
            )
    try:
        if action == BULK_MOVE:
            count = devices_move(devices=devices, school=school, by=by)
        elif action == BULK_RETIRE:
            count = devices_retire(devices=devices, by=by, note=note)
        else:
            raise ValidationError(f"Unknown action {action!r}.")
    except ValidationError as exc:
        raise ValidationError("Nothing was changed: " + " ".join(exc.messages)) from None
    audit_log.record(
        audit_log.Kind.BULK, object_type="equity.device", detail=f"{action} {count} devices"
    )
    return BulkDone(count, action, school if action == BULK_MOVE else None)


RELEASE_NOTE = (
    "The student record of the person who held it was removed, so it is back in stock. "
    "Collect it if it is still out."
)


@transaction.atomic
def devices_release(*, student_ids, by=None, at=None) -> int:
    """The devices these students hold go back in stock: their open assignments close, and
    each device gets an event saying why that names no student. For a purge, whose student
    rows (and assignments) go next in the same transaction; set-based. Returns how many."""
    at = at or timezone.now()
    open_assignments = Assignment.objects.filter(
        student_id__in=student_ids, checked_in_at__isnull=True
    )
    held = list(
        Device.objects.select_for_update()
        .filter(pk__in=open_assignments.values("device_id"), status=DeviceStatus.ASSIGNED)
        .values_list("pk", "school_id", "district_id")
    )
    open_assignments.update(checked_in_at=at, checked_in_by=by)
    if not held:
        return 0
    DeviceEvent.objects.bulk_create(
        DeviceEvent(
            device_id=pk, kind=EventKind.RELEASED, by=by, at=at, school_id=school_id,
            note=RELEASE_NOTE,
        )
        for pk, school_id, _district in held
    )  # fmt: skip
    Device.objects.filter(pk__in=[pk for pk, *_ in held]).update(
        status=DeviceStatus.IN_STOCK, updated_at=at
    )
    evidence_changed.send(sender=Device, district_ids={district for *_, district in held})
    return len(held)


SERIAL_MAX = Device._meta.get_field("serial_number").max_length
ASSET_TAG_MAX = Device._meta.get_field("asset_tag").max_length


def _quoted(value: str) -> str:
    return f'"{value}"'


def device_row_problems(
    *, asset_tag: str, serial_number: str, quote: Callable[[str], str] = _quoted
) -> dict[str, str]:
    """What is wrong with a device's identifying cells, per field (empty: nothing), in the
    words the importer shows after a column's name (``quote`` shows a value: the importer
    shortens long ones). Asked by ``device_create`` and by the importers for every row; the
    lengths are the model's."""
    problems = {}
    serial_max, tag_max = SERIAL_MAX, ASSET_TAG_MAX
    if not serial_number:
        problems["serial_number"] = "is blank; every device needs its serial number"
    elif len(serial_number) > serial_max:
        problems["serial_number"] = f"{quote(serial_number)} is longer than {serial_max} characters"
    if not asset_tag:
        problems["asset_tag"] = "is blank; every device needs an asset tag"
    elif len(asset_tag) > tag_max:
        problems["asset_tag"] = f"{quote(asset_tag)} is longer than {tag_max} characters"
    return problems


@transaction.atomic
def device_create(
    *,
    school: School,
    asset_tag: str,
    serial_number: str,
    model,
    by,
    purchase_date=None,
    funding_source: str = "",
    notes: str = "",
) -> Device:
    """Add one device to a school's inventory.

    An asset tag is unique in the district and a serial number per maker, across every
    school; the scoped managers cannot see other schools, so the check asks
    ``unscoped_ids_exist``, which answers yes or no and reveals nothing else.
    """
    asset_tag = asset_tag.strip()
    serial_number = serial_number.strip()
    labels = {"asset_tag": "The asset tag", "serial_number": "The serial number"}
    problems = device_row_problems(asset_tag=asset_tag, serial_number=serial_number)
    if problems:
        raise ValidationError({f: f"{labels[f]} {message}." for f, message in problems.items()})
    errors = {}
    if model.district_id != school.district_id:
        errors["model"] = "This model is not in the district's catalog."
    if Device.objects.unscoped_ids_exist(
        district_id=school.district_id, asset_tag__iexact=asset_tag
    ):
        errors["asset_tag"] = f"Asset tag {asset_tag} is already used in the district."
    if Device.objects.unscoped_ids_exist(
        district_id=school.district_id,
        maker__iexact=model.maker,
        serial_number__iexact=serial_number,
    ):
        errors["serial_number"] = f"A {model.maker} device with serial {serial_number} exists."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            device = Device.objects.create(
                school=school,
                district_id=school.district_id,
                model=model,
                asset_tag=asset_tag,
                serial_number=serial_number,
                purchase_date=purchase_date,
                funding_source=funding_source,
                notes=notes,
            )
    except IntegrityError:  # someone added the same tag or serial a moment ago
        raise ValidationError(
            {"asset_tag": f"Asset tag {asset_tag} or serial {serial_number} was just taken."}
        ) from None
    _event(device, EventKind.CREATED, by, at=device.created_at)
    _announce(device)
    return device
