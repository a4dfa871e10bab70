"""No page offers a choice of everything as a <select> (issue 17).

A district admin's schools (1,800), staff (70,000), facilitators and initiatives (4,000) are
chosen by type-ahead (schools/typeahead.py). Here the district grows past a page's worth of
each, and every page of the scoping matrix a district admin opens (signed-in pages and one
object of Maple per scoped URL) is read for a <select> with more options than that: a
select of every school, staff member, facilitator or initiative fails, whichever page
renders it.
"""

import re

from django.urls import reverse

from schools.models import Role
from schools.selectors import SCHOOLS_PER_PAGE
from tests.factories import (
    InitiativeFactory,
    LearningLeaderFactory,
    MembershipFactory,
    SchoolFactory,
    StaffMemberFactory,
    UserFactory,
)
from tests.scoping_cases import CASES, SIGNED_IN, Scoped

GROWN = SCHOOLS_PER_PAGE + 10
MOST_OPTIONS = SCHOOLS_PER_PAGE
# Selects of a fixed vocabulary that does not grow with the district.
FIXED = {"time_zone"}  # the IANA zones of District.time_zone


def _grow(district, maple) -> None:
    for _ in range(GROWN):
        school = SchoolFactory(district=district)
        InitiativeFactory(schools=[school])
        LearningLeaderFactory(staff=StaffMemberFactory(school=school))
        MembershipFactory(user=UserFactory(), school=school, district=district, role=Role.COACH)
    StaffMemberFactory.create_batch(GROWN, school=maple)
    InitiativeFactory.create_batch(GROWN, schools=[maple])


def _largest_select(html: str) -> int:
    selects = re.findall(r"<select\b([^>]*)>(.*?)</select>", html, flags=re.S)
    return max(
        (
            body.count("<option")
            for attrs, body in selects
            if not any(f'name="{name}"' in attrs for name in FIXED)
        ),
        default=0,
    )


def test_no_page_renders_a_select_of_everything(client, district_admin, district, maple):
    _grow(district, maple)
    client.force_login(district_admin)
    too_long = []
    for name, case in sorted(CASES.items()):
        if case == SIGNED_IN:
            url = reverse(name)
        elif isinstance(case, Scoped) and "GET" in case.methods:
            url = reverse(name, kwargs=case.make(maple))
        else:
            continue
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        options = _largest_select(response.content.decode())
        if options > MOST_OPTIONS:
            too_long.append(f"{name}: a select of {options} options")
    assert not too_long, "\n".join(too_long)
