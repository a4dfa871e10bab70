"""Writes of the initiatives app, and who may make them.

Each write validates first (the models' ``clean`` holds the rules) and writes in one
transaction. Moves go through ``move``; the model refuses the same moves when saved
directly, so this module is the convenient door, not the only lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from schools.models import District, Role, School

from .models import (
    STANDARD_COMPLIANCE,
    ComplianceItem,
    Initiative,
    InitiativePillar,
    PendingMove,
    StatusChange,
)

# --- who may do what --------------------------------------------------------------------


def linked_school_ids(initiative: Initiative) -> set[int]:
    """Every school the initiative concerns, including those outside the reader's scope."""
    links = Initiative.schools.through.objects.filter(initiative_id=initiative.pk)
    return set(links.values_list("school_id", flat=True))


def can_edit(access, initiative: Initiative, school_ids: set[int] | None = None) -> bool:
    """District admins edit their district's initiatives; a whole-district initiative is theirs
    alone. A school initiative is also edited by someone who is principal of *every* school
    it concerns: a plan that binds a school needs that school's principal."""
    if access.unrestricted or access.is_district_admin(initiative.district_id):
        return True
    if initiative.whole_district:
        return False
    ids = linked_school_ids(initiative) if school_ids is None else school_ids
    return bool(ids) and all(Role.PRINCIPAL in access.roles_at(i) for i in ids)


def can_create(access) -> bool:
    return access.has_role(Role.PRINCIPAL, Role.DISTRICT_ADMIN)


def creatable_schools(access):
    """Schools a user may start an initiative for: where they are principal, or their
    district's schools for a district admin."""
    schools = School.objects.select_related("district").order_by("name")
    if access.unrestricted:
        return schools
    ids = {i for i in access.school_ids if Role.PRINCIPAL in access.roles_at(i)}
    admin_districts = [d for d in access.district_ids if access.is_district_admin(d)]
    return schools.filter(pk__in=ids) | schools.filter(district_id__in=admin_districts)


def can_write_for_school(access, school: School) -> bool:
    """SWOT analyses and reflections are written by the school's principal or a district
    admin; everyone who sees the school reads them."""
    return access.has_role(Role.PRINCIPAL, Role.DISTRICT_ADMIN, school=school)


# --- initiatives ----------------------------------------------------------------------


def _set_pillars(initiative: Initiative, pillars: Iterable[str]) -> None:
    InitiativePillar.objects.filter(initiative=initiative).delete()
    InitiativePillar.objects.bulk_create(
        InitiativePillar(initiative=initiative, pillar=p) for p in sorted(set(pillars))
    )


@transaction.atomic
def initiative_create(
    *,
    schools: Iterable[School],
    whole_district: District | None = None,
    data: dict,
    pillars: Iterable[str] = (),
    by,
) -> Initiative:
    """Create an initiative for ``schools`` (or every school of ``whole_district``), with the
    standard compliance items to do; its history starts with this creation."""
    schools = list(schools)
    if whole_district is not None:
        district = whole_district
        school_ids = set(
            School._base_manager.filter(district=district).values_list("pk", flat=True)
        )
    else:
        if not schools:
            raise ValidationError({"schools": "Choose at least one school."})
        districts = {s.district_id for s in schools}
        if len(districts) != 1:
            raise ValidationError({"schools": "Choose schools of one district."})
        district = schools[0].district
        school_ids = {s.pk for s in schools}
    initiative = Initiative(
        district=district,
        whole_district=whole_district is not None,
        owner=data.pop("owner", None) or by,
        created_by=by,
        **data,
    )
    initiative._pending_move = PendingMove(by=by)
    initiative.save()
    links = Initiative.schools.through
    links.objects.bulk_create(
        links(initiative_id=initiative.pk, school_id=i) for i in sorted(school_ids)
    )
    _set_pillars(initiative, pillars)
    ComplianceItem.objects.bulk_create(
        ComplianceItem(initiative=initiative, kind=kind, updated_by=by)
        for kind in STANDARD_COMPLIANCE
    )
    return initiative


@transaction.atomic
def initiative_update(*, initiative: Initiative, pillars: Iterable[str]) -> Initiative:
    """Save the plan (the form has validated it through the model) and its pillars."""
    initiative.save()
    _set_pillars(initiative, pillars)
    return initiative


@transaction.atomic
def move(initiative: Initiative, to_status: str, *, by, override_reason: str = "") -> StatusChange:
    """Move an initiative to ``to_status``. Refuses a move the rules forbid (ValidationError
    keyed ``status`` or ``override_reason``); an override reason is kept on the record."""
    initiative = Initiative._base_manager.select_for_update().get(pk=initiative.pk)
    if initiative.status == to_status:
        raise ValidationError({"status": "The initiative is already in this status."})
    initiative.status = to_status
    initiative._pending_move = PendingMove(by=by, override_reason=override_reason or "")
    initiative.save()
    return StatusChange._base_manager.filter(initiative=initiative).latest("at", "pk")


@transaction.atomic
def save_part(obj, **extra):
    """Save a milestone, budget line, sign-off, compliance item, SWOT or reflection that a
    form has validated; the model's ``save`` checks its rule again."""
    for name, value in extra.items():
        setattr(obj, name, value)
    obj.save()
    return obj
