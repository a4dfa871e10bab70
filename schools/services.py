"""Writes of the schools app: validate, then save in one transaction."""

from django.db import transaction

from .models import District, School, StaffMember


@transaction.atomic
def school_update(*, school: School, data: dict) -> School:
    for name, value in data.items():
        setattr(school, name, value)
    school.full_clean()
    school.save()
    return school


@transaction.atomic
def district_update_settings(*, district: District, data: dict) -> District:
    for name, value in data.items():
        setattr(district, name, value)
    district.full_clean()
    district.save()
    return district


@transaction.atomic
def staff_member_save(*, staff: StaffMember) -> StaffMember:
    staff.email = staff.email.strip().lower()
    staff.full_clean()
    staff.save()
    return staff
