"""The lists and forms a district admin opens cost the same at two sizes and never render a
choice of everything (issue 17): paged without a count, counted only for the rows shown,
choices of schools, staff, facilitators and initiatives by type-ahead.

The district grows from a few schools to more than a page's worth, each with an initiative,
a PD session with attendance, a survey with responses, a coach and a Learning Leader; the
district admin's page must run the same queries and show no <select> that grew with it.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from schools.models import Role
from schools.selectors import SCHOOLS_PER_PAGE
from tests.factories import (
    AttendanceFactory,
    InitiativeFactory,
    LearningLeaderFactory,
    MembershipFactory,
    PDSessionFactory,
    ResponseFactory,
    SchoolFactory,
    StaffMemberFactory,
    SurveyFactory,
    UserFactory,
)

PAGES = [
    "initiatives:list",
    "pd:session_list",
    "pd:calendar",
    "pd:session_new",
    "stakeholders:home",
    "stakeholders:survey_new",
]
# Fewer than the larger district's schools, initiatives and facilitators.
MOST_OPTIONS = SCHOOLS_PER_PAGE


def _grow(district, schools: int) -> None:
    for _ in range(schools):
        school = SchoolFactory(district=district)
        staff = StaffMemberFactory(school=school)
        InitiativeFactory(schools=[school])
        session = PDSessionFactory(schools=[school])
        AttendanceFactory(session=session, staff=staff)
        ResponseFactory(survey=SurveyFactory(schools=[school]))
        LearningLeaderFactory(staff=staff)
        coach = UserFactory()
        MembershipFactory(user=coach, school=school, district=district, role=Role.COACH)


def _queries(client, url) -> tuple[int, str]:
    client.get(url)  # sessions, caches: what every request after the first does not read
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def _largest_select(html: str) -> int:
    selects = re.findall(r"<select\b.*?</select>", html, flags=re.S)
    return max((s.count("<option") for s in selects), default=0)


@pytest.mark.parametrize("name", PAGES)
def test_a_district_admins_page_costs_the_same_at_two_sizes(name, login, district_admin, district):
    client = login(district_admin)
    url = reverse(name)
    _grow(district, 3)
    small, _html = _queries(client, url)
    _grow(district, SCHOOLS_PER_PAGE + 10)
    large, html = _queries(client, url)
    assert small == large, f"{name}: {small} queries with 3 schools, {large} with 63"
    assert _largest_select(html) <= MOST_OPTIONS, f"{name} renders a select of everything"
    initiative_links = set(re.findall(r'href="/initiatives/(\d+)/"', html))
    assert len(initiative_links) <= MOST_OPTIONS, f"{name} links every initiative"


def test_a_district_admin_opens_any_schools_community_page_by_type_ahead(
    login, district_admin, district, elsewhere
):
    schools = SchoolFactory.create_batch(SCHOOLS_PER_PAGE + 2, district=district)
    client = login(district_admin)
    home = client.get(reverse("stakeholders:home"))
    assert home.context["more_schools"] and 'name="school"' in home.content.decode()
    last = sorted(schools, key=lambda s: s.name)[-1]
    opened = client.get(reverse("stakeholders:home"), {"school": last.name})
    assert opened.status_code == 302
    assert opened["Location"] == reverse("stakeholders:community", args=[last.pk])
    refused = client.get(reverse("stakeholders:home"), {"school": elsewhere.pk})
    assert refused.status_code == 200 and refused.context["pick"].errors["school"]
