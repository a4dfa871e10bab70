"""Every capability against every role, at their own school, another school of their
district, and a school of another district: the answer table is written out below.

A capability an app declares but this table does not list fails ``test_every_capability_
is_in_the_table``, so a new one cannot land without its row.
"""

from __future__ import annotations

import pytest
from django.template import Context, Template

from schools import permissions
from schools.models import Role
from schools.permissions import schools_for
from schools.scoping import NO_ACCESS, access_for

from .factories import (
    DistrictFactory,
    InitiativeFactory,
    MembershipFactory,
    SchoolFactory,
    UserFactory,
)

ROLES = ("district_admin", "principal", "coach", "tech_staff")
assert set(ROLES) == set(Role.values), "a new role needs a column in MATRIX"

# capability -> role -> answers at (own school, another school of the district, a school of
# another district). A district admin's "own school" is any school of their district.
Y, N = True, False
MATRIX = {
    #                                 admin      principal  coach      tech staff
    "schools.edit_school": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (N, N, N),
        "tech_staff": (N, N, N),
    },
    "schools.edit_roster": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (Y, N, N),
        "tech_staff": (N, N, N),
    },
    "accounts.see_student_records": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (N, N, N),
        "tech_staff": (Y, N, N),
    },
    "equity.read_inventory": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (N, N, N),
        "tech_staff": (Y, N, N),
    },
    "equity.handle_devices": {
        "district_admin": (Y, Y, N),
        "principal": (N, N, N),
        "coach": (N, N, N),
        "tech_staff": (Y, N, N),
    },
    "equity.import_records": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (N, N, N),
        "tech_staff": (Y, N, N),
    },
    "pd.use_pd": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (Y, N, N),
        "tech_staff": (N, N, N),
    },
    "pd.facilitate": {
        "district_admin": (N, N, N),
        "principal": (N, N, N),
        "coach": (Y, N, N),
        "tech_staff": (N, N, N),
    },
    "stakeholders.run_surveys": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (N, N, N),
        "tech_staff": (N, N, N),
    },
    "stakeholders.tell_stories": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (Y, N, N),
        "tech_staff": (N, N, N),
    },
    "software.request_apps": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (Y, N, N),
        "tech_staff": (Y, N, N),
    },
    "software.review_apps": {
        "district_admin": (Y, Y, N),
        "principal": (N, N, N),
        "coach": (N, N, N),
        "tech_staff": (Y, N, N),
    },
    "stakeholders.manage_community": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (N, N, N),
        "tech_staff": (N, N, N),
    },
    "initiatives.create": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (N, N, N),
        "tech_staff": (N, N, N),
    },
    "initiatives.write_for_school": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (N, N, N),
        "tech_staff": (N, N, N),
    },
    "initiatives.lead_school": {
        "district_admin": (N, N, N),
        "principal": (Y, N, N),
        "coach": (N, N, N),
        "tech_staff": (N, N, N),
    },
    "readiness.read": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (Y, N, N),
        "tech_staff": (Y, N, N),
    },
    "readiness.recompute": {
        "district_admin": (Y, Y, N),
        "principal": (Y, N, N),
        "coach": (N, N, N),
        "tech_staff": (N, N, N),
    },
}


@pytest.fixture
def places(db):
    """Own school, another school of the district, a school of another district."""
    district = DistrictFactory(slug="home")
    own = SchoolFactory(district=district, code="OWN")
    other = SchoolFactory(district=district, code="OTHER")
    away = SchoolFactory(district=DistrictFactory(slug="away"), code="AWAY")
    return district, own, other, away


def _holder(role, district, own):
    user = UserFactory(email=f"{role}@example.org")
    school = None if role == Role.DISTRICT_ADMIN else own
    MembershipFactory(user=user, school=school, district=district, role=role)
    return user


def test_every_capability_is_in_the_table():
    assert set(permissions.registered()) == set(MATRIX)


@pytest.mark.parametrize("role", ROLES)
def test_capability_by_role_and_place(places, role):
    district, own, other, away = places
    access = access_for(_holder(role, district, own))
    wrong = []
    for name, row in MATRIX.items():
        cap = permissions.get(name)
        expected = row[role]
        answers = tuple(cap(access, school) for school in (own, other, away))
        if answers != expected:
            wrong.append(f"{name} at (own, other, away): {answers}, expected {expected}")
        if cap(access) != any(expected):
            wrong.append(f"{name} anywhere: {cap(access)}, expected {any(expected)}")
        # The one place for "at which schools": the very schools where the answer is yes.
        ids = {s.pk for s, yes in zip((own, other, away), expected, strict=True) if yes}
        if set(schools_for(access, cap)) != ids:
            wrong.append(f"schools_for {name}: {set(schools_for(access, cap))}, expected {ids}")
        if cap.in_district(access, district) != any(expected[:2]):
            wrong.append(f"{name} in the district: expected {any(expected[:2])}")
        if cap.in_district(access, away.district):
            wrong.append(f"{name} in another district")
    assert not wrong, "\n".join(wrong)


def test_superuser_may_everything_and_nobody_nothing(places):
    _district, own, _other, away = places
    root = access_for(UserFactory(is_superuser=True, is_staff=True))
    for cap in permissions.registered().values():
        assert cap(root, own) and cap(root, away) and cap(root)
        assert schools_for(root, cap) is None  # every school
        assert not cap(NO_ACCESS, own) and not cap(NO_ACCESS)
        assert schools_for(NO_ACCESS, cap) == frozenset()


def test_refusals_answer_403(places, rf):
    from django.core.exceptions import PermissionDenied

    district, own, other, _away = places
    access = access_for(_holder(Role.TECH_STAFF, district, own))
    can_handle = permissions.get("equity.handle_devices")
    can_handle.require(access, school=own)
    can_handle.require_at_any(access, [other, own])
    can_handle.require_in_district(access, district)
    for refuse in (
        lambda: can_handle.require(access, school=other),
        lambda: can_handle.require_at_any(access, [other]),
        lambda: permissions.get("pd.use_pd").require(access),
        lambda: permissions.get("pd.use_pd").require_in_district(access, district),
    ):
        with pytest.raises(PermissionDenied):
            refuse()


def test_schools_for_one_district(places):
    district, own, other, away = places
    access = access_for(_holder(Role.DISTRICT_ADMIN, district, own))
    assert schools_for(access, "equity.import_records", district=district) == {own.pk, other.pk}
    assert schools_for(access, "equity.import_records", district=away.district_id) == set()


def test_an_unknown_capability_is_an_error():
    with pytest.raises(LookupError):
        permissions.get("equity.check_out_typo")
    with pytest.raises(ValueError):
        permissions.capability("schools.edit_school", Role.PRINCIPAL)  # declared twice
    with pytest.raises(ValueError):
        permissions.capability("schools.new_rule", "janitor")


def test_templates_ask_a_capability(places):
    district, own, other, _away = places
    access = access_for(_holder(Role.TECH_STAFF, district, own))
    template = Template(
        '{% load permissions %}{% if access|can:"equity.handle_devices" %}any {% endif %}'
        '{% if access|at:own|can:"equity.handle_devices" %}own {% endif %}'
        '{% if access|at:other|can:"equity.handle_devices" %}other {% endif %}'
        '{% if access|can:"pd.use_pd" %}pd{% endif %}'
    )
    rendered = template.render(Context({"access": access, "own": own, "other": other}))
    assert rendered == "any own "
    with pytest.raises(LookupError):
        Template('{% load permissions %}{{ access|can:"pd.typo" }}').render(
            Context({"access": access})
        )


# --- an object's rule: who edits (and moves) an initiative ------------------------------


@pytest.mark.parametrize(
    ("role", "school_plan", "two_schools", "whole_district", "other_district"),
    [
        #  role              own school  own+other  whole district  another district
        ("district_admin", Y, Y, Y, N),
        ("principal", Y, N, N, N),
        ("coach", N, N, N, N),
        ("tech_staff", N, N, N, N),
    ],
)
def test_who_edits_an_initiative(
    places, role, school_plan, two_schools, whole_district, other_district
):
    from initiatives.permissions import can_edit_initiative

    district, own, other, away = places
    access = access_for(_holder(role, district, own))
    plans = (
        InitiativeFactory(district=district, schools=[own]),
        InitiativeFactory(district=district, schools=[own, other]),
        InitiativeFactory(district=district, schools=[own], whole_district=True),
        InitiativeFactory(district=away.district, schools=[away]),
    )
    answers = tuple(can_edit_initiative(access, plan) for plan in plans)
    assert answers == (school_plan, two_schools, whole_district, other_district)


def test_two_factor_covers_everyone_who_sees_student_records():
    """A district requiring two-factor sign-in requires it of whoever reads students'
    records (the inventory's holders, imports of students, charges); accounts cannot import
    equity, so it declares its own capability, kept equal here."""
    readers = {
        role
        for name in ("equity.read_inventory", "equity.import_records", "equity.handle_devices")
        for role in permissions.get(name).roles
    }
    assert set(permissions.get("accounts.see_student_records").roles) == readers
