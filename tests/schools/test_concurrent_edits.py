"""Optimistic locking: of two people editing the same record, the later save is refused."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from initiatives.models import Initiative
from pd.models import PDSession
from schools.forms import StaffMemberForm, edit_token
from schools.models import STALE_MESSAGE, StaffMember
from stakeholders.models import Survey
from tests.factories import (
    InitiativeFactory,
    PDSessionFactory,
    StaffMemberFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


def form_data(form) -> dict:
    """What the browser would post back for the form as the page showed it."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            data[form.add_prefix(name)] = "on"
        elif isinstance(value, list | tuple):
            data[form.add_prefix(name)] = [str(getattr(v, "pk", v)) for v in value]
        else:
            data[form.add_prefix(name)] = str(value)
    return data


CASES = {
    "staff": (
        lambda s, u: StaffMemberFactory(school=s),
        "schools:staff_edit",
        "full_name",
        StaffMember,
        {},
    ),
    "initiative": (
        lambda s, u: InitiativeFactory(schools=[s]),
        "initiatives:edit",
        "title",
        Initiative,
        {},
    ),
    "survey": (
        lambda s, u: SurveyFactory(schools=[s]),
        "stakeholders:survey_edit",
        "title",
        Survey,
        {"audiences": ["teachers"]},
    ),
    "pd session": (
        lambda s, u: PDSessionFactory(schools=[s], facilitator_user=u),
        "pd:session_edit",
        "title",
        PDSession,
        {},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_later_of_two_saves_is_refused(case, login, principal, coach, maple):
    make, url_name, field, model, extra = CASES[case]
    obj = make(maple, coach)
    url = reverse(url_name, args=[obj.pk])
    client = login(principal)
    first = {**form_data(client.get(url).context["form"]), **extra}
    second = dict(first)
    assert first["edit_token"]

    first[field] = "Saved first"
    response = client.post(url, first)
    assert response.status_code == 302, response.context["form"].errors
    assert getattr(model.objects.get(pk=obj.pk), field) == "Saved first"

    second[field] = "Saved second"
    response = client.post(url, second)
    assert response.status_code in (200, 400)  # initiatives answer 400 to an invalid form
    assert STALE_MESSAGE in response.context["form"].non_field_errors()
    assert STALE_MESSAGE.split(",")[0] in response.content.decode().replace("&#x27;", "'")
    assert getattr(model.objects.get(pk=obj.pk), field) == "Saved first"


def test_a_missing_or_garbled_token_is_refused_too(login, principal, maple):
    staff = StaffMemberFactory(school=maple, full_name="Before")
    client = login(principal)
    url = reverse("schools:staff_edit", args=[staff.pk])
    data = form_data(client.get(url).context["form"])
    data["full_name"] = "After"
    for token in ("", "not-a-date"):
        data["edit_token"] = token
        assert client.post(url, data).status_code in (200, 400)
    staff.refresh_from_db()
    assert staff.full_name == "Before"


def test_the_model_refuses_a_save_that_passed_the_form_at_the_same_moment(maple):
    """Both forms are valid (neither has saved yet); the database lets only one through."""
    staff = StaffMemberFactory(school=maple)
    forms = []
    for name in ("One", "Two"):
        instance = StaffMember.objects.get(pk=staff.pk)
        data = {
            "full_name": name,
            "email": instance.email,
            "position": instance.position,
            "active": "on",
            "edit_token": edit_token(instance),
        }
        form = StaffMemberForm(data, instance=instance, school=maple)
        assert form.is_valid(), form.errors
        forms.append(form)
    forms[0].save()
    with pytest.raises(ValidationError, match="Someone else saved"):
        forms[1].save()
    assert StaffMember.objects.get(pk=staff.pk).full_name == "One"


def test_a_save_without_a_form_token_is_not_affected(maple):
    staff = StaffMemberFactory(school=maple)
    staff.full_name = "Changed by a service"
    staff.save()
    staff.save()
    assert StaffMember.objects.get(pk=staff.pk).full_name == "Changed by a service"
