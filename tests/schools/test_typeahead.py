"""The type-ahead choice (schools/typeahead.py): a scoped search endpoint and one widget.

The search answers only rows the person may see; the widget renders no <option> whatever the
size of the list; the submitted id is still checked against the field's scoped queryset, and
without JavaScript the typed name is found in the same scope.
"""

import pytest
from django.urls import reverse

from pd.models import PDSession
from schools.typeahead import RESULTS, TypeaheadSelect
from tests.factories import InitiativeFactory, SchoolFactory, StaffMemberFactory


def _search(client, source, q=""):
    response = client.get(reverse("schools:search"), {"source": source, "q": q})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_it_answers_only_the_schools_the_person_sees(login, principal, maple, cedar, elsewhere):
    client = login(principal)
    assert [r["label"] for r in _search(client, "schools.school")] == [maple.name]
    assert _search(client, "schools.school", cedar.name[:5]) == []


def test_it_answers_only_initiatives_of_the_persons_schools(login, principal, maple, cedar):
    mine = InitiativeFactory(schools=[maple], title="Chromebooks for grade 3")
    InitiativeFactory(schools=[cedar], title="Chromebooks for grade 7")
    results = _search(login(principal), "initiatives.initiative", "chromebooks")
    assert results == [{"id": mine.pk, "label": mine.title}]


def test_staff_of_another_school_are_not_found(login, coach, maple, cedar):
    StaffMemberFactory(school=maple, full_name="Ana Maple")
    StaffMemberFactory(school=cedar, full_name="Ana Cedar")
    assert [r["label"] for r in _search(login(coach), "schools.staffmember", "ana")] == [
        "Ana Maple"
    ]


def test_a_district_admin_gets_the_first_matches_at_a_constant_cost(
    login, district_admin, district, django_assert_max_num_queries
):
    SchoolFactory.create_batch(RESULTS + 5, district=district)
    client = login(district_admin)
    client.get(reverse("schools:search"))  # the session and the user, read once
    with django_assert_max_num_queries(4):
        assert len(_search(client, "schools.school")) == RESULTS


def test_it_refuses_an_unknown_list_and_needs_a_sign_in(client, login, principal):
    assert client.get(reverse("schools:search"), {"source": "schools.school"}).status_code == 302
    response = login(principal).get(
        reverse("schools:search"), {"source": "accounts.user", "q": "a"}
    )
    assert response.status_code == 400 and "source" in response.json()["errors"]


def _log(client, school, coach, **changes):
    data = {
        "schools": [school.pk],
        "title": "Exit tickets",
        "date": "2026-03-05",
        "start_time": "15:30",
        "duration_minutes": 45,
        "format": "plc",
        "facilitator": f"u{coach.pk}",
        "attendees": [],
    }
    data.update(changes)
    return client.post(reverse("pd:session_new"), data)


def test_the_session_form_offers_initiatives_by_type_ahead_not_by_select(login, coach, maple):
    InitiativeFactory.create_batch(3, schools=[maple])
    response = login(coach).get(reverse("pd:session_new"))
    field = response.context["form"].fields["initiative"]
    assert isinstance(field.widget, TypeaheadSelect)
    html = response.content.decode()
    assert 'name="initiative"' in html and 'role="combobox"' in html
    assert '<select name="initiative"' not in html


def test_another_schools_initiative_id_is_a_field_error(login, coach, maple, cedar):
    theirs = InitiativeFactory(schools=[cedar])
    response = _log(login(coach), maple, coach, initiative=theirs.pk)
    assert response.status_code == 200 and not PDSession.objects.exists()
    assert response.context["form"].errors["initiative"]


@pytest.mark.parametrize("how", ["id", "typed name", "typed name, JavaScript on"])
def test_the_initiative_is_taken_by_id_or_without_javascript_by_name(
    how, login, coach, maple, cedar
):
    mine = InitiativeFactory(schools=[maple], title="Exit tickets in every class")
    InitiativeFactory(schools=[cedar], title="Another school's plan")
    value = {
        "id": {"initiative": mine.pk},
        "typed name": {"initiative": "exit tickets in EVERY class"},
        "typed name, JavaScript on": {"initiative": "", "initiative__label": mine.title},
    }[how]
    response = _log(login(coach), maple, coach, **value)
    assert response.status_code == 302, response.context["form"].errors
    assert PDSession.objects.get().initiative == mine


def test_a_name_of_another_schools_initiative_is_refused(login, coach, maple, cedar):
    InitiativeFactory(schools=[cedar], title="Another school's plan")
    response = _log(login(coach), maple, coach, initiative="Another school's plan")
    assert response.status_code == 200 and response.context["form"].errors["initiative"]


def test_the_schools_of_a_session_are_ticked_boxes_and_a_type_ahead(login, coach, maple):
    html = login(coach).get(reverse("pd:session_new")).content.decode()
    assert f'type="checkbox" name="schools" value="{maple.pk}"' in html  # the chosen one
    assert 'name="schools__label"' in html and 'role="combobox"' in html


def test_schools_typed_without_javascript_are_found_in_the_scope(
    login, district_admin, coach, maple, cedar, elsewhere
):
    client = login(district_admin)
    typed = f"{maple.name.upper()}; {cedar.name}"
    response = _log(client, maple, coach, schools=[], schools__label=typed)
    assert response.status_code == 302, response.context["form"].errors
    assert set(PDSession.objects.get().schools.all()) == {maple, cedar}
    refused = _log(client, maple, coach, schools=[], schools__label=elsewhere.name, title="B")
    assert refused.status_code == 200 and refused.context["form"].errors["schools"]


def test_a_field_narrows_its_matches_to_its_schools_within_the_scope(
    login, district_admin, maple, cedar, elsewhere
):
    StaffMemberFactory(school=maple, full_name="Bo Maple")
    StaffMemberFactory(school=cedar, full_name="Bo Cedar")
    client = login(district_admin)
    url = reverse("schools:search")
    both = client.get(url, {"source": "schools.staffmember", "q": "bo"}).json()["results"]
    assert {r["label"] for r in both} == {"Bo Maple", "Bo Cedar"}
    narrowed = client.get(url, {"source": "schools.staffmember", "q": "bo", "school": maple.pk})
    assert [r["label"] for r in narrowed.json()["results"]] == ["Bo Maple"]
    # Another district's school cannot widen the search: refused on its field.
    wider = client.get(url, {"source": "schools.staffmember", "school": elsewhere.pk})
    assert wider.status_code == 400 and "school" in wider.json()["errors"]
