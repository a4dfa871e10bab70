"""A district admin's pages name their district, never list its schools one by one (issue 17).

``Access`` reads a whole district's (school, district) pairs only when something asks for
the schools one by one (``school_ids``, ``school_district``, ``schools_for``): 1,802 rows
per request at a million students. A page filters with ``schools_q`` instead, which names
the district. This walks every page of the scoping matrix (lists, forms, and each object's
page, made at a school of the admin's district) as the district admin and fails for a page
that lists the schools, unless ``STILL_LISTED`` names it with why.
"""

import pytest
from django.urls import NoReverseMatch, reverse

from schools.scoping import Access
from tests.scoping_cases import CASES, SIGNED_IN, Scoped
from tests.test_scoping_matrix import SITE_NAMES

# Pages that may still list the district's schools, each with why (none at present).
STILL_LISTED: dict[str, str] = {}

PAGES = [
    n
    for n in SITE_NAMES
    if CASES.get(n) == SIGNED_IN or (isinstance(CASES.get(n), Scoped) and "GET" in CASES[n].methods)
]


@pytest.fixture
def listings(monkeypatch):
    """Each time a district-wide access lists its schools."""
    seen = []
    listed = Access.school_district.fget

    def school_district(self):
        if self.district_roles and "pairs" not in self._listed:
            seen.append(self)
        return listed(self)

    monkeypatch.setattr(Access, "school_district", property(school_district))
    return seen


@pytest.mark.parametrize("name", PAGES)
def test_a_district_admins_page_names_the_district(name, client, district_admin, maple, listings):
    case = CASES[name]
    try:
        url = reverse(name, kwargs=case.make(maple)) if isinstance(case, Scoped) else reverse(name)
    except NoReverseMatch:
        pytest.skip(f"{name} needs arguments that are not an object (a token)")
    client.force_login(district_admin)
    listings.clear()  # signing in is not the page
    response = client.get(url)
    if response.status_code != 200:
        pytest.skip(f"{name} is not the district admin's page ({response.status_code})")
    if name not in STILL_LISTED:
        assert not listings, (
            f"{name} lists the district's schools one by one; filter with schools_q, which "
            "names the district"
        )
