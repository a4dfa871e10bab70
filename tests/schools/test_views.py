import pytest
from django.urls import reverse

from schools.forms import edit_token
from schools.models import School, StaffMember
from tests.factories import SchoolFactory, StaffMemberFactory


def test_the_principal_edits_enrollment(login, principal, maple):
    url = reverse("schools:school_edit", args=[maple.pk])
    data = {
        "name": "Maple Elementary",
        "code": "MAPLE",
        "lowest_grade": -1,
        "highest_grade": 5,
        "enrollment_pk_2": 200,
        "enrollment_3_5": 180,
        "enrollment_6_8": 0,
        "enrollment_9_12": 0,
        "economically_disadvantaged_pct": "62.5",
    }
    response = login(principal).post(url, data)
    assert response.status_code == 302
    maple.refresh_from_db()
    assert maple.enrollment == 380 and maple.lowest_grade == -1


def test_a_bad_enrollment_is_tied_to_its_field_and_nothing_is_saved(login, principal, maple):
    url = reverse("schools:school_edit", args=[maple.pk])
    data = {
        "name": "Renamed",
        "code": "MAPLE",
        "lowest_grade": 0,
        "highest_grade": 5,
        "enrollment_pk_2": 100,
        "enrollment_3_5": 100,
        "enrollment_6_8": 0,
        "enrollment_9_12": 75,
        "economically_disadvantaged_pct": "",
    }
    response = login(principal).post(url, data)
    assert response.status_code == 200
    assert "enrollment_9_12" in response.context["form"].errors
    maple.refresh_from_db()
    assert maple.name == "Maple Elementary"


def test_a_coach_cannot_edit_the_school(login, coach, maple):
    response = login(coach).get(reverse("schools:school_edit", args=[maple.pk]))
    assert response.status_code == 403


def test_the_coach_adds_and_edits_roster_staff(login, coach, maple):
    client = login(coach)
    response = client.post(
        reverse("schools:staff_add", args=[maple.pk]),
        {
            "full_name": "Rhea Novak",
            "email": "Rhea.Novak@Maple.example.org",
            "position": "teacher",
            "active": "on",
        },
    )
    assert response.status_code == 302
    staff = StaffMember.objects.get(full_name="Rhea Novak")
    assert staff.school == maple and staff.email == "rhea.novak@maple.example.org"
    client.post(
        reverse("schools:staff_edit", args=[staff.pk]),
        {
            "full_name": "Rhea Novak",
            "email": staff.email,
            "position": "librarian",
            "edit_token": edit_token(staff),
        },
    )
    staff.refresh_from_db()
    assert staff.position == "librarian" and not staff.active


def test_a_duplicate_staff_email_is_an_error_on_the_field(login, coach, maple):
    StaffMemberFactory(school=maple, email="taken@maple.example.org")
    response = login(coach).post(
        reverse("schools:staff_add", args=[maple.pk]),
        {"full_name": "Dup", "email": "taken@maple.example.org", "position": "teacher"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert StaffMember.objects.filter(full_name="Dup").count() == 0


def test_the_tech_staff_reads_but_does_not_edit_the_roster(login, tech, cedar):
    client = login(tech)
    assert client.get(reverse("schools:staff_list", args=[cedar.pk])).status_code == 200
    assert client.get(reverse("schools:staff_add", args=[cedar.pk])).status_code == 403


def test_the_roster_searches_and_answers_htmx_with_a_partial(login, coach, maple):
    StaffMemberFactory(school=maple, full_name="Ingrid Alvarez")
    StaffMemberFactory(school=maple, full_name="Bo Chen")
    client = login(coach)
    url = reverse("schools:staff_list", args=[maple.pk])
    full = client.get(url, {"q": "alva"})
    assert b"Ingrid Alvarez" in full.content and b"Bo Chen" not in full.content
    partial = client.get(url, {"q": "chen"}, headers={"HX-Request": "true"})
    assert b"Bo Chen" in partial.content and b"<h1" not in partial.content


def test_the_district_admin_changes_the_planning_ratio(login, district_admin, district):
    response = login(district_admin).post(
        reverse("schools:district_settings", args=[district.pk]),
        {
            "name": district.name,
            "device_planning_ratio": "1.15",
            "pd_hour_target": "24",
            "survey_min_group": "5",
            "time_zone": "America/Chicago",
            "date_order": "dmy",
        },
    )
    assert response.status_code == 302
    district.refresh_from_db()
    assert str(district.device_planning_ratio) == "1.15"
    assert (district.time_zone, district.date_order) == ("America/Chicago", "dmy")


def test_a_ratio_below_one_is_refused(login, district_admin, district):
    response = login(district_admin).post(
        reverse("schools:district_settings", args=[district.pk]),
        {"name": district.name, "device_planning_ratio": "0.80", "pd_hour_target": "24"},
    )
    assert "device_planning_ratio" in response.context["form"].errors


def test_a_principal_cannot_change_district_settings(login, principal, district):
    response = login(principal).get(reverse("schools:district_settings", args=[district.pk]))
    assert response.status_code == 403


@pytest.mark.parametrize("page", ["schools:school_list", "schools:staff_list"])
def test_pages_cost_the_same_queries_at_two_sizes(
    page,
    login,
    district_admin,
    district,
    maple,
    django_assert_max_num_queries,
    django_assert_num_queries,
):
    client = login(district_admin)
    url = reverse(page, args=[maple.pk]) if page == "schools:staff_list" else reverse(page)

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    SchoolFactory.create_batch(2, district=district)
    StaffMemberFactory.create_batch(3, school=maple)
    small = count()
    SchoolFactory.create_batch(60, district=district)
    StaffMemberFactory.create_batch(80, school=maple)
    with django_assert_num_queries(small):
        assert client.get(url).status_code == 200


def test_school_detail_shows_enrollment_and_target(login, principal, maple):
    response = login(principal).get(reverse("schools:school_detail", args=[maple.pk]))
    assert b"330" in response.content  # ceil(1.10 × 300)
    assert School.objects.count() == 1
