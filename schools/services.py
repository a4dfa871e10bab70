"""Writes of the schools app: validate, then save in one transaction."""

from django.db import transaction

from .models import District, School, StaffMember
from .signals import evidence_changed


@transaction.atomic
def school_update(*, school: School, data: dict) -> School:
    for name, value in data.items():
        setattr(school, name, value)
    school.full_clean()
    school.save()
    evidence_changed.send(sender=School, school_ids=[school.pk])
    return school


@transaction.atomic
def district_update_settings(*, district: District, data: dict) -> District:
    for name, value in data.items():
        setattr(district, name, value)
    district.full_clean()
    district.save()  # its ratio, PD-hour target and survey group feed the indicators
    evidence_changed.send(sender=District, district_ids=[district.pk])
    return district


@transaction.atomic
def staff_member_save(*, staff: StaffMember) -> StaffMember:
    staff.email = staff.email.strip().lower()
    staff.full_clean()
    staff.save()
    evidence_changed.send(sender=StaffMember, school_ids=[staff.school_id])
    return staff
