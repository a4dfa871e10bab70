"""Who may start, edit and move initiatives, and write a school's SWOT and reflections.

Everyone who sees an initiative reads it (the scope decides that)."""

from __future__ import annotations

from django.db.models import Q

from schools.models import Role, School
from schools.permissions import capability, schools_q

from .models import Initiative

can_create = capability(
    "initiatives.create",
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    doc="Start an initiative (for a school where one is principal, or one's district).",
)
can_write_for_school = capability(
    "initiatives.write_for_school",
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    doc="Write a school's SWOT analyses and reflections (everyone who sees it reads them).",
)
# A plan that binds a school needs that school's principal.
_leads_school = capability(
    "initiatives.lead_school",
    Role.PRINCIPAL,
    doc="Edit a school initiative, when one may do so at every school it concerns.",
)


def linked_school_ids(initiative: Initiative) -> set[int]:
    """Every school the initiative concerns, including those outside the reader's scope."""
    links = Initiative.schools.through.unscoped.filter(initiative_id=initiative.pk)
    return set(links.values_list("school_id", flat=True))


def can_edit_initiative(access, initiative: Initiative, school_ids: set[int] | None = None) -> bool:
    """Edit an initiative and move its status. District admins edit their district's
    initiatives; a whole-district initiative is theirs alone. A school initiative is also
    edited by someone who is principal of *every* school it concerns."""
    if access.unrestricted or access.is_district_admin(initiative.district_id):
        return True
    if initiative.whole_district:
        return False
    ids = linked_school_ids(initiative) if school_ids is None else school_ids
    return bool(ids) and all(_leads_school(access, i) for i in ids)


def creatable_schools(access):
    """Schools a user may start an initiative for: where they are principal, or their
    district's schools for a district admin."""
    schools = School.objects.select_related("district").order_by("name")
    if access.unrestricted:
        return schools
    admin_districts = [d for d in access.district_ids if access.is_district_admin(d)]
    return schools.filter(schools_q(access, _leads_school) | Q(district_id__in=admin_districts))
