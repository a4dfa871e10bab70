"""Writes of the device year: the handout and collection stations, acceptance of the device
agreement, and charges (the rollover is rollover.py).

The station scans reuse ``equity.inventory.services.device_check_out`` / ``device_check_in``,
so the rules of a check-out (one open assignment per device and per student, in the
database; a device must be in stock and before its auto-update expiration; student and
device of one school) are enforced in one place. This module adds what a handout day checks
on top.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from equity.inventory import services as inventory
from equity.inventory.models import (
    Assignment,
    Device,
    DeviceKind,
    ReturnCondition,
    Student,
)
from schools.models import District
from schools.scoping import outside_scope

from .models import (
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
from .selectors import device_at, incident_counts, price_for, student_at


@dataclass(frozen=True)
class Handout:
    assignment: Assignment
    student: Student
    device: Device
    incidents: int  # losses and damaged returns in the last 12 months (informs only)


@transaction.atomic
def handout_scan(*, event: StationEvent, student_id: str, asset_tag: str, by, at=None) -> Handout:
    """One scanned pair at a handout station: checked, then assigned, or nothing at all.

    Two stations at once stay correct: the check-out locks the device row, and the database
    refuses a second open assignment for the device or for the student.
    """
    if event.kind != StationKind.HANDOUT:
        raise ValidationError("This is not a handout day.")
    student = student_at(event.school, student_id.strip())
    device = device_at(event.school, asset_tag.strip())
    if device.model.kind == DeviceKind.HOTSPOT:
        raise ValidationError(
            {"asset_tag": f"{device.asset_tag} is a hotspot; hand it out at the check-out desk."}
        )
    if student.needs_touch and not device.model.touchscreen:
        raise ValidationError(
            {
                "asset_tag": f"Student {student.local_id} needs a touchscreen; "
                f"{device.asset_tag} ({device.model}) has none."
            }
        )
    assignment = inventory.device_check_out(
        device=device, student=student, by=by, at=at, handout_event=event
    )
    incidents = incident_counts([student.pk]).get(student.pk, 0)
    return Handout(assignment, student, device, incidents)


@dataclass(frozen=True)
class Collected:
    assignment: Assignment
    device: Device
    charges: list[Charge] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)


@transaction.atomic
def collection_scan(
    *,
    event: StationEvent,
    asset_tag: str,
    condition: str = ReturnCondition.GOOD,
    damage_kind: str = "",
    charger_missing: bool = False,
    note: str = "",
    by,
    at=None,
) -> Collected:
    """One device back at a collection station: condition recorded, assignment closed, and
    a charge raised from the price list for damage or a missing charger."""
    if event.kind != StationKind.COLLECTION:
        raise ValidationError("This is not a collection day.")
    note = note.strip()
    if condition not in ReturnCondition.values:
        raise ValidationError({"condition": "Choose a condition."})
    if condition == ReturnCondition.DAMAGED and not note:
        raise ValidationError({"note": "Say in a few words what is damaged."})
    if condition == ReturnCondition.DAMAGED:
        damage_kind = damage_kind or DamageKind.OTHER_DAMAGE
        if damage_kind not in (DamageKind.SCREEN, DamageKind.KEYBOARD, DamageKind.OTHER_DAMAGE):
            raise ValidationError({"damage_kind": "Choose what kind of damage."})
    device = device_at(event.school, asset_tag.strip())
    assignment = inventory.device_check_in(
        device=device,
        by=by,
        condition=condition,
        note=note,
        at=at,
        charger_missing=charger_missing,
        collection_event=event,
    )
    device.refresh_from_db(fields=["status"])
    wanted = []
    if condition == ReturnCondition.DAMAGED:
        wanted.append(damage_kind)
    if charger_missing:
        wanted.append(DamageKind.CHARGER)
    charges, unpriced = [], []
    for kind in wanted:
        charge = charge_assess(
            device=device, student=assignment.student, kind=kind, by=by, assignment=assignment,
            note=note, at=at, required=False,
        )  # fmt: skip
        if charge is None:
            unpriced.append(DamageKind(kind).label)
        else:
            charges.append(charge)
    return Collected(assignment, device, charges, unpriced)


def acceptance_for(assignment: Assignment) -> Acceptance:
    """The assignment's acceptance, made pending on the current agreement if none yet."""
    existing = Acceptance.objects.filter(assignment=assignment).first()
    if existing is not None:
        return existing
    agreement = DeviceAgreement.current(assignment.device.district_id)
    if agreement is None:
        raise ValidationError("The district has no device agreement yet.")
    try:
        with transaction.atomic():
            return Acceptance.objects.create(assignment=assignment, agreement=agreement)
    except IntegrityError:  # made by someone else a moment ago
        return Acceptance.objects.get(assignment=assignment)


def decode_signature(data_url: str) -> bytes:
    """The PNG bytes of a canvas's ``toDataURL()``; refuses anything else."""
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise ValidationError({"signature": "Sign in the box before saving."})
    try:
        return base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        msg = "The signature could not be read; sign again."
        raise ValidationError({"signature": msg}) from None


@transaction.atomic
def accept_signed(*, assignment: Assignment, signature: bytes, signer: str, at=None) -> Acceptance:
    if signer not in Signer.values:
        raise ValidationError({"signer": "Say who signed."})
    acceptance = acceptance_for(assignment)
    acceptance = Acceptance.objects.select_for_update(of=("self",)).get(pk=acceptance.pk)
    if acceptance.accepted:
        raise ValidationError("This agreement was already accepted.")
    if not assignment.is_open:
        raise ValidationError("This device has already been returned.")
    acceptance.method = AcceptanceMethod.SIGNED
    acceptance.signer = signer
    acceptance.signature = signature
    acceptance.accepted_at = at or timezone.now()
    acceptance.save()
    return acceptance


@transaction.atomic
def accept_by_link(*, token: str, signer: str, at=None) -> Acceptance:
    if signer not in Signer.values:
        raise ValidationError({"signer": "Say who is accepting."})
    with outside_scope():
        acceptance = Acceptance.objects.select_for_update(of=("self",)).filter(token=token).first()
        if acceptance is None:
            raise ValidationError("This link is not one we know.")
        if acceptance.accepted:
            return acceptance
        acceptance.method = AcceptanceMethod.LINK
        acceptance.signer = signer
        acceptance.accepted_at = at or timezone.now()
        acceptance.save()
    return acceptance


@transaction.atomic
def publish_agreement(*, district: District, title: str, text: str) -> DeviceAgreement:
    """A new version of the district's agreement; earlier versions stay for their acceptances."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write the agreement's text."})
    current = DeviceAgreement.current(district.pk)
    if current is not None and current.text == text and current.title == title.strip():
        raise ValidationError({"text": "This is the text of the current version already."})
    try:
        with transaction.atomic():
            return DeviceAgreement.objects.create(
                district=district,
                version=(current.version + 1) if current else 1,
                title=title.strip() or "Student device agreement",
                text=text,
            )
    except IntegrityError:
        raise ValidationError("Someone published a version a moment ago; reload.") from None


@transaction.atomic
def set_price(*, district: District, kind: str, device_model=None, amount: Decimal):
    """Add or change one line of the district's price list."""
    if kind not in DamageKind.values:
        raise ValidationError({"kind": "Choose a kind of damage."})
    if device_model is not None and device_model.district_id != district.pk:
        raise ValidationError({"device_model": "This model is not in the district's catalog."})
    if amount is None or amount < 0:
        raise ValidationError({"amount": "Enter an amount of zero or more."})
    entry = (
        PriceListEntry.objects.select_for_update(of=("self",))
        .filter(
            district=district,
            kind=kind,
            device_model_id=device_model.pk if device_model else None,
        )
        .first()
    )
    if entry is None:
        try:
            with transaction.atomic():
                return PriceListEntry.objects.create(
                    district=district, kind=kind, device_model=device_model, amount=amount
                )
        except IntegrityError:
            raise ValidationError("Someone set this price a moment ago; reload.") from None
    entry.amount = amount
    entry.save(update_fields=["amount"])
    return entry


@transaction.atomic
def charge_assess(
    *,
    device: Device,
    student: Student,
    kind: str,
    by,
    assignment: Assignment | None = None,
    note: str = "",
    at=None,
    required: bool = True,
) -> Charge | None:
    """Raise a charge at the price list's amount; waived at once for a qualifying student.

    With ``required=False`` a kind without a price raises nothing and returns None.
    """
    if kind not in DamageKind.values:
        raise ValidationError({"kind": "Choose what the charge is for."})
    amount = price_for(device, kind)
    if amount is None:
        if not required:
            return None
        label = DamageKind(kind).label.lower()
        raise ValidationError({"kind": f"The district's price list has no price for {label}."})
    at = at or timezone.now()
    charge = Charge(
        device=device,
        student=student,
        assignment=assignment,
        kind=kind,
        amount=amount,
        note=note[:300],
        created_at=at,
        created_by=by,
    )
    if student.fee_waiver:
        charge.status = ChargeStatus.WAIVED
        charge.resolution_note = "The student qualifies for a fee waiver."
        charge.resolved_at = at
        charge.resolved_by = by
    charge.save()
    return charge


@transaction.atomic
def charge_resolve(*, charge: Charge, status: str, by, note: str = "", at=None) -> Charge:
    charge = Charge.objects.select_for_update(of=("self",)).get(pk=charge.pk)
    if charge.status != ChargeStatus.DUE:
        raise ValidationError(f"This charge is already {charge.get_status_display().lower()}.")
    if status not in (ChargeStatus.PAID, ChargeStatus.WAIVED):
        raise ValidationError({"status": "Choose paid or waived."})
    charge.status = status
    charge.resolution_note = note.strip()[:300]
    charge.resolved_at = at or timezone.now()
    charge.resolved_by = by
    charge.save()
    return charge
