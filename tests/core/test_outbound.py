"""URLs a district types and the server then fetches reach only public addresses.

The class of defect: a field whose URL the server calls lets a district admin make it read
its own network (cloud metadata, Redis, an internal page). The guard at the bottom lists
every URL field of every model, so a new one must say whether the server fetches it.
"""

import ipaddress

import pytest
import requests
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from core import outbound
from identity.models import Provider, SignInSettings
from tests.saml import SamlIdP

# Fields the server itself fetches: each must carry core.outbound.public_url.
FETCHED = {
    ("identity.Provider", "server_url"): "OIDC discovery, token and user-info calls",
    ("identity.Provider", "metadata_url"): "SAML metadata read when saved",
    ("rostering.RosterSource", "base_url"): "OneRoster / Ed-Fi API reads",
    ("rostering.RosterSource", "token_url"): "OAuth client-credentials token",
}
# Fields shown to people as links (their browser follows them, the server never does).
SHOWN_ONLY = {
    ("identity.Provider", "idp_sso_url"),
    ("software.App", "website"),
    ("software.App", "dpa_url"),
    ("software.App", "accessibility_url"),
    ("initiatives.ComplianceItem", "evidence_url"),
    ("stakeholders.StoryShare", "url"),
    ("stakeholders.CommunicationLogEntry", "url"),
    ("pd.PDSession", "materials_url"),
}


@pytest.fixture
def sign_in_settings(district):
    return SignInSettings.objects.create(district=district, allowed_domains="riverbend.k12.us")


@pytest.fixture
def no_private(settings):
    settings.OUTBOUND_PRIVATE_ADDRESSES = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://localhost/admin",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.1.2.3/",
        "https://192.168.0.10/",
        "https://172.16.5.5/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "https://100.64.0.1/",
    ],
)
def test_private_and_local_addresses_are_refused(no_private, url):
    with pytest.raises(ValidationError) as refused:
        outbound.check_public_url(url)
    assert refused.value.code == "private"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/", "gopher://x/", "//x"])
def test_only_http_and_https(no_private, url):
    with pytest.raises(ValidationError) as refused:
        outbound.check_public_url(url)
    assert refused.value.code == "scheme"


def test_a_host_that_does_not_resolve_is_named(no_private):
    with pytest.raises(ValidationError) as refused:
        outbound.check_public_url("https://nowhere.invalid/metadata")
    assert "nowhere.invalid could not be found" in refused.value.messages[0]


def test_a_public_address_passes(no_private):
    outbound.check_public_url("https://93.184.216.34/saml/metadata")


def test_a_redirect_to_a_private_address_is_refused(no_private, httpserver, monkeypatch):
    """The first hop is made to look public; the hop it redirects to is checked again."""
    real = outbound._addresses

    def localhost_looks_public(host):
        if host == "localhost":
            return [ipaddress.ip_address("93.184.216.34")]
        return real(host)

    monkeypatch.setattr(outbound, "_addresses", localhost_looks_public)
    httpserver.expect_request("/metadata").respond_with_data(
        "", status=302, headers={"Location": f"http://127.0.0.1:{httpserver.port}/secret"}
    )
    httpserver.expect_request("/secret").respond_with_data("internal")
    start = f"http://localhost:{httpserver.port}/metadata"
    with pytest.raises(ValidationError) as refused:
        outbound.fetch_public(start)
    assert refused.value.code == "private"
    assert [r.path for r, _ in httpserver.log] == ["/metadata"]


def test_a_large_answer_is_cut_off(httpserver):
    httpserver.expect_request("/big").respond_with_data("x" * 5000)
    with pytest.raises(ValidationError):
        outbound.fetch_public(httpserver.url_for("/big"), max_bytes=1000)
    assert outbound.fetch_public(httpserver.url_for("/big"), max_bytes=10_000) == b"x" * 5000


@pytest.mark.django_db
def test_saml_metadata_is_read_from_its_url(
    client, login, district, district_admin, sign_in_settings, httpserver
):
    httpserver.expect_request("/idp/metadata").respond_with_data(
        SamlIdP().metadata(), content_type="application/samlmetadata+xml"
    )
    admin = login(district_admin)
    response = admin.post(
        reverse("identity:provider_new", args=[district.pk]),
        {
            "kind": Provider.Kind.SAML,
            "name": "ClassLink",
            "enabled": "on",
            "metadata_url": httpserver.url_for("/idp/metadata"),
            "trust_email": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Provider.objects.get().idp_x509cert


@pytest.mark.django_db
def test_a_private_metadata_url_is_a_field_error_and_never_fetched(
    no_private, client, login, district, district_admin, sign_in_settings, httpserver
):
    httpserver.expect_request("/idp/metadata").respond_with_data(SamlIdP().metadata())
    admin = login(district_admin)
    response = admin.post(
        reverse("identity:provider_new", args=[district.pk]),
        {
            "kind": Provider.Kind.SAML,
            "name": "ClassLink",
            "enabled": "on",
            "metadata_url": httpserver.url_for("/idp/metadata"),
        },
    )
    assert response.status_code == 400
    assert "private or local address" in response.content.decode()
    assert not httpserver.log
    assert not Provider.objects.exists()


@pytest.mark.django_db
def test_a_private_oidc_issuer_is_a_field_error(
    no_private, client, login, district, district_admin, sign_in_settings
):
    admin = login(district_admin)
    response = admin.post(
        reverse("identity:provider_new", args=[district.pk]),
        {
            "kind": Provider.Kind.OIDC,
            "name": "Our IdP",
            "enabled": "on",
            "server_url": "http://169.254.169.254/latest",
            "client_id": "pillarwise",
            "secret": "s3cret",
        },
    )
    assert response.status_code == 400
    assert "private or local address" in response.content.decode()
    assert not Provider.objects.exists()


def test_every_url_field_says_whether_the_server_fetches_it():
    found = {
        (model._meta.label, field.name): field
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.URLField)
    }
    unclassified = set(found) - set(FETCHED) - SHOWN_ONLY
    assert not unclassified, (
        f"classify these URL fields in {__name__}: FETCHED (add core.outbound.public_url "
        f"to the field's validators) or SHOWN_ONLY: {sorted(unclassified)}"
    )
    for key in FETCHED:
        assert outbound.public_url in found[key].validators, f"{key} needs public_url"


def test_a_roster_server_that_redirects_inward_is_not_followed(no_private, httpserver, monkeypatch):
    """The roster client's session checks each redirect before it follows it."""
    real = outbound._addresses
    monkeypatch.setattr(
        outbound,
        "_addresses",
        lambda host: [ipaddress.ip_address("93.184.216.34")] if host == "localhost" else real(host),
    )
    httpserver.expect_request("/ims/oneroster/v1p1/users").respond_with_data(
        "", status=302, headers={"Location": f"http://127.0.0.1:{httpserver.port}/internal"}
    )
    session = outbound.public_session()
    with pytest.raises(requests.exceptions.InvalidURL, match="private or local address"):
        session.get(f"http://localhost:{httpserver.port}/ims/oneroster/v1p1/users", timeout=5)
    assert [r.path for r, _ in httpserver.log] == ["/ims/oneroster/v1p1/users"]


def test_a_roster_client_refuses_a_private_base_url(no_private):
    from rostering.client import RestClient
    from rostering.records import RosterProblem

    with pytest.raises(RosterProblem, match="private or local address"):
        RestClient(
            base_url="http://10.0.0.5/ims/oneroster/v1p1",
            token_url="https://93.184.216.34/token",
            client_id="c",
            client_secret="s",
        )


def test_sign_in_calls_go_only_where_the_discovery_document_points_outward(
    no_private, httpserver, monkeypatch
):
    """allauth reads the issuer's discovery document, then calls the token, user-info and
    key endpoints it names; the adapter's session checks each of those addresses too."""
    from allauth.socialaccount.adapter import get_adapter

    real = outbound._addresses
    monkeypatch.setattr(
        outbound,
        "_addresses",
        lambda host: [ipaddress.ip_address("93.184.216.34")] if host == "localhost" else real(host),
    )
    inward = f"http://127.0.0.1:{httpserver.port}"
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(
        {"issuer": f"http://localhost:{httpserver.port}", "token_endpoint": f"{inward}/token"}
    )
    httpserver.expect_request("/token").respond_with_json({"access_token": "t"})
    with get_adapter().get_requests_session() as session:
        config = session.get(
            f"http://localhost:{httpserver.port}/.well-known/openid-configuration"
        ).json()
        with pytest.raises(requests.exceptions.InvalidURL, match="private or local address"):
            session.post(config["token_endpoint"], data={"grant_type": "authorization_code"})
    assert [r.path for r, _ in httpserver.log] == ["/.well-known/openid-configuration"]


def test_only_core_outbound_opens_connections_of_its_own():
    """The class: a module that speaks HTTP to an address a district gave must take its
    session from core.outbound. Any other HTTP client import outside it fails here."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    clients = {"requests", "httpx", "urllib3", "urllib.request", "http.client", "aiohttp"}
    allowed = {
        "core/outbound.py",  # the checked session and fetch
        "rostering/client.py",  # sends through outbound.public_session; imports requests'
        # exception and structure types
        "bench/load.py",  # the load bench calls the app it started on loopback
    }
    found = set()
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "tests/", "node_modules/")) or "/migrations/" in relative:
            continue
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n in clients or n.split(".")[0] in clients - {"urllib", "http"} for n in names):
                found.add(relative)
    assert found <= allowed, f"HTTP clients outside core.outbound: {sorted(found - allowed)}"
    from rostering import client

    assert "public_session()" in Path(client.__file__).read_text()
