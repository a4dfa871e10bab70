"""Issue 15, item 7: every response the site produces carries the security headers.

/healthz answered before SecurityMiddleware ran, so it went out bare. This guard asks for
one response of each kind the site produces (health check, page, 404, 403, 405, CSRF
failure, lockout, 500, redirect, static file, CSV export, htmx partial, the admin) and
checks each for the same headers, over HTTPS (with HSTS) and over plain HTTP.
"""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains; preload"


def _anonymous(client, **_):
    return client


def _static(client, settings, **_):
    settings.WHITENOISE_USE_FINDERS = True  # the suite does not run collectstatic
    return client


def _principal(client, principal, **_):
    client.force_login(principal)
    return client


def _tech(client, tech, **_):
    client.force_login(tech)
    return client


def _locked_out(client, principal, settings, **_):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": principal.email, "password": "wrong!"})
    return client


# kind: (who asks, method, path or path-maker, extra request arguments, expected status)
CASES = {
    "health check": (_anonymous, "get", "/healthz", {}, 200),
    "page": (_principal, "get", "/", {}, 200),
    "sign-in page": (_anonymous, "get", "/accounts/login/", {}, 200),
    "404": (_principal, "get", "/no-such-page/", {}, 404),
    "404 of another school's object": (
        _principal,
        "get",
        lambda w: reverse("schools:school_edit", args=[w["cedar"].pk]),
        {},
        404,
    ),
    "403": (
        _principal,
        "get",
        lambda w: reverse("accounts:members", args=[w["district"].pk]),
        {},
        403,
    ),
    "405": (_principal, "delete", "/", {}, 405),
    "redirect to sign in": (_anonymous, "get", "/schools/", {}, 302),
    "redirect after a form": (_principal, "post", reverse("accounts:logout"), {}, 302),
    "static file": (_static, "get", "/static/vendor/htmx/htmx.min.js", {}, 200),
    "CSV export": (_tech, "get", reverse("equity:inventory") + "?format=csv", {}, 200),
    "htmx partial": (
        _principal,
        "get",
        lambda w: reverse("schools:staff_list", args=[w["maple"].pk]),
        {"headers": {"HX-Request": "true"}},
        200,
    ),
    "admin": (_anonymous, "get", "/admin/login/", {}, 200),
    "lockout": (
        _locked_out,
        "post",
        "/accounts/login/",
        {"data": {"username": "x@example.org", "password": "y"}},
        429,
    ),
}


@pytest.fixture
def world(district, maple, cedar, principal, tech):
    DeviceFactory(school=cedar)
    return {"district": district, "maple": maple, "cedar": cedar}


def fetch(kind, world, secure, request):
    who, method, path, extra, status = CASES[kind]
    client = Client(raise_request_exception=False)
    client = who(
        client,
        principal=request.getfixturevalue("principal"),
        tech=request.getfixturevalue("tech"),
        settings=request.getfixturevalue("settings"),
    )
    path = path(world) if callable(path) else path
    response = getattr(client, method)(path, secure=secure, **extra)
    assert response.status_code == status, (kind, response.status_code)
    return response


def assert_secured(response, *, secure: bool):
    for header, value in EXPECTED.items():
        assert response.get(header) == value, header
    policy = response.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    if secure:
        assert response.get("Strict-Transport-Security") == HSTS
    else:  # HSTS is only sent over HTTPS, as the standard says
        assert "Strict-Transport-Security" not in response


@pytest.mark.parametrize("secure", [True, False], ids=["https", "http"])
@pytest.mark.parametrize("kind", list(CASES))
def test_every_kind_of_response_carries_the_security_headers(kind, secure, world, request):
    assert_secured(fetch(kind, world, secure, request), secure=secure)


def test_a_csrf_failure_carries_them(principal, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(principal)
    response = client.post(reverse("accounts:logout"), secure=True)
    assert response.status_code == 403
    assert_secured(response, secure=True)


def test_a_server_error_carries_them(principal, settings):
    settings.ROOT_URLCONF = "tests.security.boom_urls"
    client = Client(raise_request_exception=False)
    client.force_login(principal)
    response = client.get("/boom/", secure=True)
    assert response.status_code == 500
    assert_secured(response, secure=True)


def test_behind_the_https_redirect_the_health_check_still_answers_with_the_headers(
    client, settings
):
    # Production redirects plain HTTP to HTTPS, but a container's health check calls
    # http://127.0.0.1:8000/healthz: it gets its answer (with the headers), not a redirect,
    # whatever Host it sends; every other path is redirected, headers and all.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["pillarwise.example.org"]
    health = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert health.status_code == 200
    assert_secured(health, secure=False)
    page = client.get("/accounts/login/", HTTP_HOST="pillarwise.example.org")
    assert page.status_code == 301 and page.url.startswith("https://pillarwise.example.org/")
    assert_secured(page, secure=False)


HEADER_MIDDLEWARE = {
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
}


def test_nothing_answers_before_the_header_middlewares(settings):
    # A middleware listed above these could answer a request (as the health check did)
    # before they see the response.
    first = settings.MIDDLEWARE[: len(HEADER_MIDDLEWARE)]
    assert set(first) == HEADER_MIDDLEWARE, settings.MIDDLEWARE
