"""Who may do what: capabilities, and the one answer to "at which schools may they do X".

A *capability* names something a person may do at a school ("equity.handle_devices") and
the roles that grant it. Each app declares its own in its ``permissions.py``
(``equity/permissions.py``, ``pd/permissions.py``…); a capability is a predicate,
``can_handle_devices(access, school)``, and also answers the questions views ask:

- ``can_handle_devices(access)``: anywhere (a list page, a navigation link);
- ``can_handle_devices.require(access, school=school)``: 403 otherwise (audited);
- ``can_handle_devices.require_at_any(access, schools)``: for an object of several schools;
- ``can_handle_devices.in_district(access, district)`` and ``.require_in_district(...)``;
- ``schools_for(access, can_handle_devices)``: the schools where the person may (None:
  every school, for a superuser), the narrowing a list or a form's choices applies on top
  of the scope, since scope alone is not enough (a coach at Maple who is tech staff at
  Cedar sees Maple but handles Cedar's devices only).

Templates ask by name: ``{% load permissions %}{% if access|can:"pd.use_pd" %}`` or, at one
school, ``{% if access|at:school|can:"equity.handle_devices" %}``. The registry is filled
when the apps are ready (``SchoolsConfig.ready`` imports every app's ``permissions``), so
this module, at the bottom of the house, knows the capabilities without importing the apps.

It builds on ``schools.scoping.Access`` (the roles held at each school) and its
``require_role``; what a person may *see* stays the scope's answer alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Role
from .scoping import Access, require_role, require_role_at_any

_REGISTRY: dict[str, Capability] = {}


@dataclass(frozen=True, eq=False)
class Capability:
    """Something a person may do at a school, granted by any of ``roles``."""

    name: str
    roles: tuple[str, ...]
    doc: str = ""

    def __call__(self, access: Access, school=None) -> bool:
        """May ``access`` do this at ``school`` (a School or its id), or anywhere when None?"""
        return access.has_role(*self.roles, school=school)

    def require(self, access: Access, school=None) -> None:
        """403 (and an audit row) unless ``self(access, school)``."""
        require_role(access, *self.roles, school=school)

    def require_at_any(self, access: Access, schools) -> None:
        """403 unless the person may do this at one of ``schools`` (a session, a survey)."""
        require_role_at_any(access, schools, *self.roles)

    def in_district(self, access: Access, district) -> bool:
        """May the person do this at some school of ``district`` (a district's catalog)?"""
        if access.unrestricted:
            return True
        if Role.DISTRICT_ADMIN in self.roles and access.is_district_admin(district):
            return True
        district_id = getattr(district, "pk", district)
        if district_id in access.districts_with_role(*self.roles):
            return True
        return any(
            access.direct_schools.get(school_id) == district_id
            for school_id in access.direct_school_ids_with_role(*self.roles)
        )

    def require_in_district(self, access: Access, district) -> None:
        from django.core.exceptions import PermissionDenied

        if not self.in_district(access, district):
            raise PermissionDenied("Your role does not allow this.")

    def __repr__(self) -> str:
        return f"<Capability {self.name}>"


def capability(name: str, *roles: str, doc: str = "") -> Capability:
    """Declare (and register) a capability; its name is "<app label>.<verb phrase>"."""
    if name in _REGISTRY:
        raise ValueError(f"The capability {name} is declared twice.")
    unknown = set(roles) - set(Role.values)
    if not roles or unknown:
        raise ValueError(f"The capability {name} names no role or an unknown one: {unknown}.")
    declared = Capability(name=name, roles=tuple(roles), doc=doc)
    _REGISTRY[name] = declared
    return declared


def get(cap: Capability | str) -> Capability:
    """The capability itself, or the one registered under a name (a typo raises)."""
    if isinstance(cap, Capability):
        return cap
    try:
        return _REGISTRY[cap]
    except KeyError:
        raise LookupError(f"No app declares the capability {cap!r}.") from None


def registered() -> dict[str, Capability]:
    """Every declared capability by name (for the matrix test and the docs)."""
    return dict(_REGISTRY)


def can(access: Access, cap: Capability | str, school=None) -> bool:
    return get(cap)(access, school)


def schools_for(access: Access, cap: Capability | str, district=None) -> frozenset[int] | None:
    """The ids of the schools where ``access`` may do ``cap`` (of ``district`` when given).

    None means every school (a superuser). Scope already hides other schools; this narrows
    further to the schools where the person's role allows the action."""
    if access.unrestricted:
        return None
    ids = access.school_ids_with_role(*get(cap).roles)
    if district is None:
        return ids
    district_id = getattr(district, "pk", district)
    return frozenset(s for s in ids if access.school_district.get(s) == district_id)


def schools_q(access: Access, cap: Capability | str, path: str = "pk", district_path=None):
    """``schools_for`` as a filter: ``School.objects.filter(schools_q(access, can_use_pd))``
    or, from another model, ``path="school"``. A district held whole is named as a district,
    so a district admin's filter costs what a principal's does (an empty ``Q()`` for a
    superuser)."""
    return access.schools_q(*get(cap).roles, path=path, district_path=district_path)


# --- capabilities of the schools app -----------------------------------------------------

can_edit_school = capability(
    "schools.edit_school",
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    doc="Edit a school's details.",
)
can_edit_roster = capability(
    "schools.edit_roster",
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    Role.COACH,
    doc="Add and edit a school's staff members.",
)

# The home page's sections: the schools where the person holds each school role. These are
# what a person *is* at a school (their dashboard), not a capability.
HOME_SECTIONS = {
    "principal": Role.PRINCIPAL,
    "coach": Role.COACH,
    "tech_staff": Role.TECH_STAFF,
}


def home_sections(access: Access) -> dict[str, frozenset[int]]:
    """For each section of the home page, the schools where the person holds its role."""
    return {name: access.school_ids_with_role(role) for name, role in HOME_SECTIONS.items()}


def roles_held(access: Access) -> dict[str, bool]:
    """Which home page sections to show (any school role held, or a superuser)."""
    held = access.all_roles
    return {name: role in held for name, role in HOME_SECTIONS.items()}
