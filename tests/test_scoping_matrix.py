"""The scoping matrix: every URL of the URL conf, every HTTP method.

Another school's object answers 404 to every method (htmx partials included), a list never
shows another school's data, and every page a user can open has exactly one <h1>. A URL
that nobody classified in tests/scoping_cases.py fails here.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from schools.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.scoping_cases import (
    CASES,
    PUBLIC,
    PUBLIC_KWARGS,
    SIGN_IN_STEPS,
    SIGNED_IN,
    Api,
    Scoped,
)

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
OTHER_SCHOOL_MARKERS = [b"Cedar Middle", b"Hidden Hollow"]


def url_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from url_names(p, ns)
        elif isinstance(p, URLPattern):
            yield f"{namespace}{p.name}" if p.name else f"{namespace}<unnamed {p.pattern}>"


ALL_NAMES = sorted(set(url_names()))
SITE_NAMES = [n for n in ALL_NAMES if not n.startswith("admin:")]
SCOPED = [n for n in SITE_NAMES if isinstance(CASES.get(n), Scoped)]
SIGNED_IN_PAGES = [n for n in SITE_NAMES if CASES.get(n) == SIGNED_IN]
PUBLIC_PAGES = [n for n in SITE_NAMES if CASES.get(n) == PUBLIC]


def test_it_classifies_every_url():
    unclassified = [n for n in SITE_NAMES if n not in CASES]
    assert not unclassified, f"Add these URLs to tests/scoping_cases.py: {unclassified}"
    stale = [n for n in CASES if n not in ALL_NAMES]
    assert not stale, f"These classified URLs no longer exist: {stale}"


@pytest.fixture
def member(maple):
    """Every school role at Maple, none anywhere else."""
    user = UserFactory(email="everything@maple.example.org")
    for role in (Role.PRINCIPAL, Role.COACH, Role.TECH_STAFF):
        MembershipFactory(user=user, school=maple, role=role)
    return user


@pytest.fixture
def admin_member(district):
    user = UserFactory(email="district@riverbend.example.org")
    MembershipFactory(user=user, school=None, district=district, role=Role.DISTRICT_ADMIN)
    return user


def _request(client, method, url, **extra):
    return getattr(client, method.lower())(url, **extra)


def assert_one_h1(response, name):
    if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
        count = response.content.count(b"<h1")
        assert count == 1, f"{name} renders {count} <h1> elements"


@pytest.mark.parametrize("name", SCOPED)
def test_it_answers_404_for_another_schools_object(
    name, client, member, admin_member, maple, cedar, elsewhere
):
    case = CASES[name]
    outsiders = [(admin_member, elsewhere)]
    if case.level == "school":
        outsiders += [(member, cedar), (member, elsewhere)]
    else:
        outsiders += [(member, elsewhere)]
    for user, school in outsiders:
        url = reverse(name, kwargs=case.make(school))
        client.force_login(user)
        for method in METHODS:
            response = _request(client, method, url)
            assert response.status_code == 404, (name, user.email, school.name, method)
        htmx = client.get(url, headers={"HX-Request": "true"})
        assert htmx.status_code == 404, (name, "htmx partial")


@pytest.mark.parametrize("name", SCOPED)
def test_it_serves_its_own_schools_object(name, client, member, admin_member, maple):
    case = CASES[name]
    user = member if case.level == "school" else admin_member
    url = reverse(name, kwargs=case.make(maple))
    client.force_login(user)
    response = client.get(url)
    expected = 200 if "GET" in case.methods else 405
    assert response.status_code == expected, (name, response.status_code)
    assert_one_h1(response, name)


@pytest.mark.parametrize("name", SCOPED)
def test_it_sends_anonymous_visitors_to_sign_in(name, client, maple):
    url = reverse(name, kwargs=CASES[name].make(maple))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_signed_in_pages_show_only_the_users_schools(name, client, member, cedar, elsewhere):
    from tests.factories import StaffMemberFactory

    StaffMemberFactory(school=cedar, full_name="Cedar Middle Teacher")
    StaffMemberFactory(school=elsewhere, full_name="Hidden Hollow Teacher")
    assert client.get(reverse(name)).status_code == 302  # anonymous: sign in first
    client.force_login(member)
    response = client.get(reverse(name))
    assert response.status_code == 200
    for marker in OTHER_SCHOOL_MARKERS:
        assert marker not in response.content, (name, marker)
    assert_one_h1(response, name)


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages_answer_anyone(name, client, db, request):
    kwargs = PUBLIC_KWARGS.get(name)
    if callable(kwargs):  # a public URL naming a real object (a district, its provider)
        kwargs = kwargs(request.getfixturevalue("maple"))
    response = client.get(reverse(name, kwargs=kwargs))
    expected = (SIGN_IN_STEPS[name],) if name in SIGN_IN_STEPS else (200, 302, 405)
    assert response.status_code in expected, (name, response.status_code)
    assert_one_h1(response, name)


def test_the_admin_is_for_superusers_only(client, member):
    client.force_login(member)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- api (helper): every route of /api/v1/, every method, with a bearer token ---

API_NAMES = [n for n in SITE_NAMES if isinstance(CASES.get(n), Api)]
API_OBJECTS = [n for n in API_NAMES if CASES[n].make is not None]
API_LISTS = [n for n in API_NAMES if CASES[n].make is None]


def _bearer(user):
    from api.services import token_create

    return {"Authorization": f"Bearer {token_create(user=user, name='matrix', read_only=False)[1]}"}


def test_it_checks_every_api_route():
    assert len(API_NAMES) > 20 and API_LISTS and API_OBJECTS
    for name in API_LISTS:
        assert name.replace("-list", "-detail") in CASES, f"{name} needs its -detail route"


@pytest.mark.parametrize("name", API_OBJECTS)
def test_api_answers_404_for_another_schools_object(
    name, client, member, admin_member, maple, cedar, elsewhere
):
    case = CASES[name]
    outsiders = [(admin_member, elsewhere)]
    if case.level == "school":
        outsiders += [(member, cedar), (member, elsewhere)]
    else:
        outsiders += [(member, elsewhere)]
    for user, school in outsiders:
        url = reverse(name, kwargs=case.make(school))
        headers = _bearer(user)
        for method in METHODS:
            response = _request(client, method, url, headers=headers)
            assert response.status_code == 404, (name, user.email, school.name, method)


@pytest.mark.parametrize("name", API_OBJECTS)
def test_api_serves_its_own_schools_object(name, client, member, admin_member, maple):
    case = CASES[name]
    user = member if case.level == "school" else admin_member
    url = reverse(name, kwargs=case.make(maple))
    headers = _bearer(user)
    response = client.get(url, headers=headers)
    assert response.status_code == (200 if "GET" in case.methods else 405), name
    if "POST" in case.methods:
        # An empty body is either enough (every field optional) or bad input on its fields.
        response = client.post(url, {}, content_type="application/json", headers=headers)
        assert response.status_code in (200, 201, 400), (name, response.content)


@pytest.mark.parametrize("name", API_NAMES)
def test_api_refuses_anonymous_callers(name, client, maple):
    case = CASES[name]
    url = reverse(name, kwargs=case.make(maple) if case.make else None)
    for method in METHODS:
        response = _request(client, method, url)
        assert response.status_code == 401, (name, method, response.status_code)


@pytest.mark.parametrize("name", API_LISTS)
def test_api_lists_show_only_the_callers_schools(name, client, member, maple, cedar, elsewhere):
    detail = CASES[name.replace("-list", "-detail")]
    make = detail.make
    theirs = {make(elsewhere)["pk"]}
    if detail.level == "school":
        theirs.add(make(cedar)["pk"])
    mine = make(maple)["pk"]
    response = client.get(reverse(name), headers=_bearer(member))
    assert response.status_code == 200, name
    ids = {row["id"] for row in response.json()["results"]}
    assert mine in ids, name
    assert not ids & theirs, name
