"""Signing in through a SAML 2.0 provider: responses really signed with xmlsec, checked by
python3-saml through allauth's ACS, and every refusal."""

import datetime as dt

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from core.models import AuditEvent, Kind
from identity.models import Provider, UsedAssertion
from identity.services import spend_assertion
from tests.factories import MembershipFactory, UserFactory
from tests.saml import SamlIdP, _key_and_cert

from .conftest import DOMAIN

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_dotted_host(client):
    # python3-saml refuses URLs on a single-label host such as Django's "testserver".
    client.defaults["HTTP_HOST"] = "127.0.0.1"


@pytest.fixture(scope="module")
def idp():
    return SamlIdP()


@pytest.fixture
def saml_row(district, sign_in_settings, district_admin, client, idp):
    """Saved through the district admin's own page, from the IdP's pasted metadata."""
    client.force_login(district_admin)
    response = client.post(
        reverse("identity:provider_new", args=[district.pk]),
        {
            "kind": Provider.Kind.SAML,
            "name": "ClassLink",
            "enabled": "on",
            "metadata_xml": idp.metadata(),
            "trust_email": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    return Provider.objects.get(kind=Provider.Kind.SAML)


def start(client, provider):
    response = client.post(
        reverse("saml_login", kwargs={"organization_slug": provider.key}), {"process": "login"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(SamlIdP().sso_url)
    return SamlIdP.read_request(response["Location"])


def post_response(client, provider, saml_response, relay_state=""):
    acs = reverse("saml_acs", kwargs={"organization_slug": provider.key})
    to_finish = client.post(acs, {"SAMLResponse": saml_response, "RelayState": relay_state})
    assert to_finish.status_code == 302
    return client.get(to_finish["Location"])


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def test_metadata_is_read_into_the_provider_and_our_metadata_is_served(client, saml_row, idp):
    assert saml_row.idp_entity_id == idp.entity_id
    assert saml_row.idp_sso_url == idp.sso_url
    assert saml_row.idp_x509cert.replace("\n", "") == idp.cert_base64
    metadata = client.get(reverse("saml_metadata", kwargs={"organization_slug": saml_row.key}))
    assert metadata.status_code == 200
    assert b"AssertionConsumerService" in metadata.content


def test_a_signed_response_signs_an_invited_person_in(client, saml_row, idp, invited):
    request = start(client, saml_row)
    response = post_response(client, saml_row, idp.respond(request, email=invited.email))
    assert response.status_code == 302
    assert response["Location"] == reverse("today:home")
    assert signed_in_as(client) == str(invited.pk)
    assert SocialAccount.objects.get(user=invited).provider == saml_row.key
    assert UsedAssertion.objects.count() == 1


def _refused_by_verification(client, response, *, linked_before=0):
    assert response.status_code == 401
    assert b"did not sign you in" in response.content
    assert signed_in_as(client) is None
    assert SocialAccount.objects.count() == linked_before
    assert AuditEvent.objects.filter(kind=Kind.SSO_REFUSED).exists()


def test_a_response_for_another_service_is_refused(client, saml_row, idp, invited):
    request = start(client, saml_row)
    answer = idp.respond(request, email=invited.email, audience="https://other.example/sp")
    _refused_by_verification(client, post_response(client, saml_row, answer))


def test_an_expired_assertion_is_refused(client, saml_row, idp, invited):
    request = start(client, saml_row)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    answer = idp.respond(request, email=invited.email, not_on_or_after=past)
    _refused_by_verification(client, post_response(client, saml_row, answer))


def test_a_response_signed_by_another_key_is_refused(client, saml_row, idp, invited):
    request = start(client, saml_row)
    other_key, _ = _key_and_cert("Impostor")
    answer = idp.respond(request, email=invited.email, sign_with=other_key)
    _refused_by_verification(client, post_response(client, saml_row, answer))


def test_a_replayed_assertion_is_refused(client, saml_row, idp, invited):
    request = start(client, saml_row)
    answer = idp.respond(request, email=invited.email)
    post_response(client, saml_row, answer)
    assert signed_in_as(client) == str(invited.pk)
    client.logout()
    # The same answer again, in this browser and in a fresh one.
    again = post_response(client, saml_row, answer)
    _refused_by_verification(client, again, linked_before=1)
    client.cookies.clear()
    elsewhere = post_response(client, saml_row, answer)
    _refused_by_verification(client, elsewhere, linked_before=1)
    assert AuditEvent.objects.filter(kind=Kind.SSO_REFUSED).count() == 2


def test_an_assertion_is_spent_once():
    evidence = {"assertion_id": "_abc", "not_on_or_after": None}
    assert spend_assertion(evidence) is True
    assert spend_assertion(evidence) is False


def test_an_address_outside_the_allowed_domains_is_refused(client, saml_row, idp, district, maple):
    person = UserFactory(email="ann@gmail.com")
    MembershipFactory(user=person, district=district, school=maple)
    request = start(client, saml_row)
    response = post_response(client, saml_row, idp.respond(request, email=person.email))
    assert response.status_code == 403
    assert b"not in a domain this district signs in with" in response.content
    assert signed_in_as(client) is None


def test_an_unverified_address_is_refused_when_the_idp_is_not_trusted(
    client, saml_row, idp, invited
):
    saml_row.trust_email = False
    saml_row.save()
    request = start(client, saml_row)
    response = post_response(client, saml_row, idp.respond(request, email=invited.email))
    assert response.status_code == 403
    assert b"did not confirm that the e-mail address is yours" in response.content


def test_a_switched_off_account_is_refused(client, saml_row, idp, invited):
    invited.is_active = False
    invited.save()
    request = start(client, saml_row)
    response = post_response(client, saml_row, idp.respond(request, email=invited.email))
    assert response.status_code == 403
    assert b"switched off" in response.content
    assert signed_in_as(client) is None


def test_nobody_signs_up(client, saml_row, idp):
    request = start(client, saml_row)
    response = post_response(client, saml_row, idp.respond(request, email=f"new@{DOMAIN}"))
    assert response.status_code == 403
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ("http://schemas.microsoft.com/claims/multipleauthn", "home"),
        ("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", "setup"),
    ],
)
def test_the_authn_context_stands_for_the_second_factor(
    client, saml_row, idp, invited, district, context, expected
):
    district.require_two_factor = True
    district.save()
    district.sign_in.accept_provider_mfa = True
    district.sign_in.save()
    request = start(client, saml_row)
    post_response(
        client, saml_row, idp.respond(request, email=invited.email, authn_context=context)
    )
    response = client.get(reverse("today:home"))
    if expected == "home":
        assert response.status_code == 200
    else:
        assert response["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_unreadable_metadata_is_a_field_error(
    client, login, district, district_admin, sign_in_settings
):
    admin = login(district_admin)
    response = admin.post(
        reverse("identity:provider_new", args=[district.pk]),
        {"kind": Provider.Kind.SAML, "name": "Clever", "enabled": "on", "metadata_xml": "<oops"},
    )
    assert response.status_code == 400
    assert "could not be read as SAML IdP metadata" in response.content.decode()
    assert not Provider.objects.exists()
