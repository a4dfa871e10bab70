"""Authorization sweep: every id a form takes (a school, staff member, initiative, device,
device model, user) is checked against the signed-in user's scope. Another school's or
district's id answers a field error: never a 500, never a write. And no form lets a user
grant themselves a role, a school, staff or superuser flags.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django import forms
from django.urls import reverse

from accounts.models import User
from equity.inventory.models import Device
from equity.year.models import PriceListEntry
from initiatives.models import Initiative, Reflection
from pd.models import Attendance, LearningLeader, PDSession
from schools.models import Membership, Role, StaffMember
from stakeholders.models import Survey
from tests.factories import (
    DeviceFactory,
    DeviceModelFactory,
    InitiativeFactory,
    PDSessionFactory,
    StaffMemberFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    url: Any  # (name, args-builder) -> url
    user: str  # conftest fixture name
    data: Any  # world -> POST (or GET) data
    field: str  # where the error must be
    model: type  # nothing of this model is written
    method: str = "post"


def forms_in(response):
    context = response.context
    if context is None:
        return []
    values = [context[key] for key in context.keys()]  # noqa: SIM118 - a ContextList
    return [v for v in values if isinstance(v, forms.BaseForm)]


@pytest.fixture
def world(maple, cedar, elsewhere, principal, coach, tech, district_admin, outsider):
    """The user's own school (Maple) and things of Cedar and of another district."""
    return {
        "maple": maple,
        "cedar": cedar,
        "elsewhere": elsewhere,
        "cedar_staff": StaffMemberFactory(school=cedar),
        "cedar_initiative": InitiativeFactory(schools=[cedar]),
        "maple_initiative": InitiativeFactory(schools=[maple]),
        "maple_session": PDSessionFactory(schools=[maple], facilitator_user=coach),
        "foreign_model": DeviceModelFactory(district=elsewhere.district),
        "foreign_device": DeviceFactory(school=elsewhere),
        "maple_device": DeviceFactory(school=maple),
        "outsider": outsider,
    }


def _u(name, arg=None):
    return lambda w: reverse(name, args=[arg(w)] if arg else [])


CASES = {
    "invite: a school of another district": Case(
        _u("accounts:invite", lambda w: w["maple"].district_id),
        "district_admin",
        lambda w: {
            "email": "new@x.example",
            "full_name": "N",
            "role": "principal",
            "school": w["elsewhere"].pk,
        },
        "school",
        Membership,
    ),
    "device add: another district's model": Case(
        _u("equity:device_add", lambda w: w["maple"].pk),
        "district_admin",
        lambda w: {"asset_tag": "NEW-1", "serial_number": "S1", "model": w["foreign_model"].pk},
        "model",
        Device,
    ),
    "prices: another district's model": Case(
        _u("equity:year_settings", lambda w: w["maple"].district_id),
        "district_admin",
        lambda w: {
            "price-kind": "screen",
            "price-device_model": w["foreign_model"].pk,
            "price-amount": "10",
        },
        "device_model",
        PriceListEntry,
    ),
    "bulk move: to another district's school": Case(
        _u("equity:devices_bulk"),
        "district_admin",
        lambda w: {
            "bulk-ids": [w["maple_device"].pk],
            "bulk-action": "move",
            "bulk-school": w["elsewhere"].pk,
        },
        "school",
        Device,
    ),
    "pd session: a school outside the scope": Case(
        _u("pd:session_new"),
        "coach",
        lambda w: {"title": "T", "schools": [w["cedar"].pk]},
        "schools",
        PDSession,
    ),
    "pd session: another school's initiative": Case(
        _u("pd:session_new"),
        "coach",
        lambda w: {"title": "T", "initiative": w["cedar_initiative"].pk},
        "initiative",
        PDSession,
    ),
    "pd session: another school's staff as attendees": Case(
        _u("pd:session_new"),
        "coach",
        lambda w: {"title": "T", "attendees": [w["cedar_staff"].pk]},
        "attendees",
        Attendance,
    ),
    "pd session edit: a school outside the scope": Case(
        _u("pd:session_edit", lambda w: w["maple_session"].pk),
        "coach",
        lambda w: {"title": "T", "schools": [w["cedar"].pk]},
        "schools",
        PDSession,
    ),
    "pd attendance: add another school's staff": Case(
        _u("pd:attendance", lambda w: w["maple_session"].pk),
        "coach",
        lambda w: {"add": "1", "staff": [w["cedar_staff"].pk]},
        "staff",
        Attendance,
    ),
    "pd leaders: another school's staff": Case(
        _u("pd:leaders", lambda w: w["maple"].pk),
        "coach",
        lambda w: {"staff": w["cedar_staff"].pk, "cohort_year": "2026"},
        "staff",
        LearningLeader,
    ),
    "pd reports: a school outside the scope": Case(
        _u("pd:reports"),
        "coach",
        lambda w: {"school": w["cedar"].pk},
        "school",
        PDSession,
        method="get",
    ),
    "initiative: a school outside the scope": Case(
        _u("initiatives:new"),
        "principal",
        lambda w: {
            "step": "what",
            "title": "T",
            "why": "Because students explain their thinking sooner.",
            "learning_goals": "g",
            "schools": [w["cedar"].pk],
        },
        "schools",
        Initiative,
    ),
    "initiative: an owner from another district": Case(
        _u("initiatives:edit", lambda w: w["maple_initiative"].pk),
        "principal",
        lambda w: {"title": "T", "owner": w["outsider"].pk},
        "owner",
        Initiative,
    ),
    "reflection: another school's initiative": Case(
        _u("initiatives:reflections", lambda w: w["maple"].pk),
        "principal",
        lambda w: {"initiative": w["cedar_initiative"].pk, "text": "x"},
        "initiative",
        Reflection,
    ),
    "survey: a school outside the scope": Case(
        _u("stakeholders:survey_new"),
        "principal",
        lambda w: {"title": "T", "schools": [w["cedar"].pk], "audiences": ["teachers"]},
        "schools",
        Survey,
    ),
    "survey: another school's initiative": Case(
        _u("stakeholders:survey_new"),
        "principal",
        lambda w: {
            "title": "T",
            "schools": [w["maple"].pk],
            "initiative": w["cedar_initiative"].pk,
            "audiences": ["teachers"],
        },
        "initiative",
        Survey,
    ),
}


def _snapshot(model):
    return sorted(model._base_manager.values_list("pk", flat=True))


@pytest.mark.parametrize("name", CASES)
def test_a_foreign_id_is_a_field_error_and_nothing_is_written(name, request, login, world):
    case = CASES[name]
    client = login(request.getfixturevalue(case.user))
    url = case.url(world)
    before = _snapshot(case.model)
    devices_before = list(Device._base_manager.values_list("pk", "school_id", "status"))
    send = client.post if case.method == "post" else client.get
    response = send(url, case.data(world))
    assert response.status_code < 500
    assert _snapshot(case.model) == before
    assert list(Device._base_manager.values_list("pk", "school_id", "status")) == devices_before
    if response.status_code in (301, 302):
        # Bulk actions answer with a message and a redirect; the message says why.
        messages = [str(m) for m in response.wsgi_request._messages]
        assert any("Nothing was changed" in m for m in messages), messages
        return
    errors = [f.errors.get(case.field) for f in forms_in(response) if f.is_bound]
    assert any(errors), f"no error on {case.field}: {[f.errors for f in forms_in(response)]}"


def test_bulk_actions_refuse_an_id_of_another_district(login, district_admin, world):
    client = login(district_admin)
    mine, foreign = world["maple_device"], world["foreign_device"]
    response = client.post(
        reverse("equity:devices_bulk"),
        {"bulk-ids": [mine.pk, foreign.pk], "bulk-action": "retire", "bulk-note": "x"},
    )
    assert response.status_code == 302
    assert Device._base_manager.filter(status="retired").count() == 0


# --- mass assignment: roles, schools and flags ---------------------------------------


def test_an_invitation_cannot_make_a_superuser_or_staff(login, district_admin, maple):
    client = login(district_admin)
    client.post(
        reverse("accounts:invite", args=[maple.district_id]),
        {
            "email": "sneaky@x.example",
            "full_name": "S",
            "role": "coach",
            "school": maple.pk,
            "is_superuser": "on",
            "is_staff": "on",
        },
    )
    user = User.objects.get(email="sneaky@x.example")
    assert not user.is_superuser and not user.is_staff


def test_an_invitation_cannot_grant_an_unknown_role(login, district_admin, maple):
    client = login(district_admin)
    response = client.post(
        reverse("accounts:invite", args=[maple.district_id]),
        {"email": "r@x.example", "full_name": "R", "role": "superuser", "school": maple.pk},
    )
    assert response.status_code < 500
    assert not User.objects.filter(email="r@x.example").exists()


def test_only_a_district_admin_invites_so_no_one_raises_their_own_role(login, principal, maple):
    response = login(principal).post(
        reverse("accounts:invite", args=[maple.district_id]),
        {"email": principal.email, "full_name": "P", "role": "district_admin"},
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=principal, role=Role.DISTRICT_ADMIN).exists()


def test_the_staff_form_cannot_move_a_person_to_another_school(login, principal, maple, cedar):
    from schools.forms import edit_token

    staff = StaffMemberFactory(school=maple)
    login(principal).post(
        reverse("schools:staff_edit", args=[staff.pk]),
        {
            "full_name": staff.full_name,
            "email": staff.email,
            "position": staff.position,
            "school": cedar.pk,
            "user": "1",
            "edit_token": edit_token(staff),
        },
    )
    staff.refresh_from_db()
    assert staff.school == maple and staff.user_id is None


def test_no_form_offers_role_school_or_flag_fields_to_set_on_oneself():
    """Every model form: none exposes a user's flags, and only the invite form a role."""
    import importlib
    import inspect

    exposed = []
    for module in (
        "accounts.forms",
        "schools.forms",
        "equity.inventory.forms",
        "equity.year.forms",
        "equity.imports.forms",
        "pd.forms",
        "initiatives.forms",
        "stakeholders.forms",
        "audit.forms",
    ):
        for _, cls in inspect.getmembers(importlib.import_module(module), inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module:
                names = set(cls.base_fields)
                if names & {"is_superuser", "is_staff", "is_active", "groups", "user"}:
                    exposed.append(cls.__name__)
    assert exposed == []
    assert StaffMember._meta.get_field("user") is not None  # the field exists; no form has it


# --- CSV rows ------------------------------------------------------------------------


def test_a_device_row_naming_another_districts_school_is_a_row_error(login, tech, cedar, world):
    from tests.equity.imports.test_views import device_rows, devices_url, upload

    rows = device_rows(2, school="CEDAR") + device_rows(1, school=world["elsewhere"].code)
    rows[2][0] = "OTHER-1"
    response = login(tech).post(devices_url(cedar), {"file": upload(rows)})
    assert response.status_code < 500
    assert not Device.objects.filter(asset_tag__startswith="RB-").exists()
    assert not Device._base_manager.filter(asset_tag="OTHER-1").exists()
    assert "HOLLOW" in response.content.decode()


def test_a_student_row_naming_a_school_outside_the_scope_is_a_row_error(
    login, principal, maple, cedar
):
    from equity.inventory.models import Student
    from tests.equity.imports.test_views import students_url, upload

    header = ["student_id", "grade", "school"]
    rows = [["S-1", "3", "MAPLE"], ["S-2", "7", "CEDAR"]]
    response = login(principal).post(students_url(maple), {"file": upload(rows, header)})
    assert response.status_code < 500
    assert Student._base_manager.count() == 0
    assert "CEDAR" in response.content.decode()
