"""The feeder pattern on the school settings page: the district admin sets where a school's
top grade goes next; the same district, not the school itself, and the grades continue."""

import pytest
from django.urls import reverse

from schools.models import School
from tests.factories import SchoolFactory


def edit(school, **changes):
    data = {
        "name": school.name,
        "code": school.code,
        "lowest_grade": school.lowest_grade,
        "highest_grade": school.highest_grade,
        "enrollment_pk_2": school.enrollment_pk_2,
        "enrollment_3_5": school.enrollment_3_5,
        "enrollment_6_8": school.enrollment_6_8,
        "enrollment_9_12": school.enrollment_9_12,
        "economically_disadvantaged_pct": "",
        "feeds_into": school.feeds_into_id or "",
    }
    data.update(changes)
    return reverse("schools:school_edit", args=[school.pk]), data


def test_the_district_admin_sets_the_next_school(login, district_admin, maple, cedar):
    client = login(district_admin)
    url, data = edit(maple, feeds_into=cedar.pk)
    response = client.get(url)
    assert "Students leaving the top grade go to" in response.content.decode()
    # Offered: the other schools of the district, not the school itself.
    assert list(response.context["form"].fields["feeds_into"].queryset) == [cedar]
    assert client.post(url, data).status_code == 302
    maple.refresh_from_db()
    assert maple.feeds_into == cedar
    # And clears it.
    url, data = edit(maple, feeds_into="")
    assert client.post(url, data).status_code == 302
    maple.refresh_from_db()
    assert maple.feeds_into is None


@pytest.mark.parametrize("case", ["itself", "other district", "grades do not continue"])
def test_a_next_school_that_cannot_take_the_top_grade_is_a_field_error(
    case, login, district_admin, district, maple, elsewhere
):
    other_elementary = SchoolFactory(district=district, name="Birch Elementary", code="BIRCH")
    target = {"itself": maple, "other district": elsewhere, "grades do not continue": None}[case]
    target = target or other_elementary
    url, data = edit(maple, feeds_into=target.pk)
    response = login(district_admin).post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors["feeds_into"]
    if case == "grades do not continue":
        assert errors == [
            "Birch Elementary teaches grades K–5, so it cannot take students moving up from "
            "grade 5 into grade 6."
        ]
    else:  # not offered at all
        assert "Select a valid choice" in errors[0]
    maple.refresh_from_db()
    assert maple.feeds_into is None


def test_the_model_refuses_what_the_form_does_not_offer(maple, cedar, elsewhere):
    assert maple.feeder_problem(maple) == "A school cannot feed into itself."
    assert maple.feeder_problem(elsewhere) == "The next school must belong to the same district."
    assert maple.feeder_problem(cedar) == ""
    high = SchoolFactory(district=maple.district, lowest_grade=9, highest_grade=12)
    assert "there is no next school" in high.feeder_problem(cedar)


def test_a_principal_does_not_see_the_feeder_and_cannot_break_it(login, principal, maple, cedar):
    maple.feeds_into = cedar
    maple.save()
    client = login(principal)
    url, data = edit(maple, highest_grade=6, enrollment_6_8=10)
    data.pop("feeds_into")
    assert "feeds_into" not in client.get(url).context["form"].fields
    # Maple teaching grade 6 would send its grade 6 leavers to Cedar's grade 7: allowed.
    assert client.post(url, data).status_code == 302
    # Teaching up to grade 8 would leave no grade at Cedar to move into: refused on the
    # grades, without naming the other school.
    url, data = edit(maple, highest_grade=8, enrollment_6_8=10)
    data.pop("feeds_into")
    response = client.post(url, data)
    assert response.status_code == 200
    (error,) = response.context["form"].errors["highest_grade"]
    assert "district's feeder pattern" in error and "Cedar" not in error
    maple.refresh_from_db()
    assert maple.highest_grade == 6 and maple.feeds_into == cedar


def test_the_next_school_cannot_drop_the_grade_it_receives(login, district_admin, maple, cedar):
    maple.feeds_into = cedar
    maple.save()
    url, data = edit(cedar, lowest_grade=7)
    response = login(district_admin).post(url, data)
    assert response.status_code == 200
    (error,) = response.context["form"].errors["lowest_grade"]
    assert "leaving its grade 5 here, so this school must teach grade 6" in error
    assert "Maple" not in error
    assert School.objects.get(pk=cedar.pk).lowest_grade == 6
