"""Signing in through an OpenID Connect provider on loopback: allauth's real client, real
signed ID tokens, and every refusal."""

import logging

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from accounts import services as account_services
from core.models import AuditEvent, Kind
from identity.models import Provider
from tests.factories import MembershipFactory, UserFactory

from .conftest import CLIENT_SECRET, DOMAIN, oidc_sign_in

pytestmark = pytest.mark.django_db


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def refusals():
    return AuditEvent.objects.filter(kind=Kind.SSO_REFUSED)


def test_it_signs_in_an_invited_person_and_links_the_account(
    client, oidc_provider, oidc_row, invited
):
    oidc_provider.add_user(invited.email, name="Ann")
    response = oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("today:home")
    assert signed_in_as(client) == str(invited.pk)
    account = SocialAccount.objects.get(user=invited)
    assert account.provider == oidc_row.key
    # The client secret, stored sealed, reached the provider's token endpoint.
    assert oidc_provider.token_requests[-1]["secret"] == CLIENT_SECRET
    assert client.get(reverse("today:home")).status_code == 200


def test_the_next_sign_in_uses_the_link_even_after_the_address_changes(
    client, oidc_provider, oidc_row, invited
):
    idp_user = oidc_provider.add_user(invited.email)
    oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    client.logout()
    idp_user["email"] = f"ann.renamed@{DOMAIN}"
    oidc_provider.users[idp_user["email"]] = idp_user
    oidc_sign_in(client, oidc_provider, oidc_row, idp_user["email"])
    assert signed_in_as(client) == str(invited.pk)
    assert SocialAccount.objects.filter(user=invited).count() == 1


def test_it_returns_to_the_page_asked_for(client, oidc_provider, oidc_row, invited):
    oidc_provider.add_user(invited.email)
    target = reverse("schools:school_list")
    response = oidc_sign_in(client, oidc_provider, oidc_row, invited.email, next_url=target)
    assert response["Location"] == target


@pytest.mark.parametrize(
    ("override", "label"),
    [({"aud": "someone-else"}, "wrong audience"), ({"exp": 1_000_000_000}, "expired")],
)
def test_a_token_not_meant_for_us_or_expired_is_refused(
    client, oidc_provider, oidc_row, invited, override, label
):
    oidc_provider.add_user(invited.email)
    oidc_provider.token_overrides = override
    response = oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    assert response.status_code == 401, label
    assert b"did not sign you in" in response.content
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()
    assert refusals().filter(district=oidc_row.district).count() == 1


def _refused(client, response, reason_text):
    assert response.status_code == 403
    assert reason_text in response.content.decode()
    assert "ask your district admin" in response.content.decode().lower()
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()


def test_an_unverified_address_is_refused(client, oidc_provider, oidc_row, invited):
    oidc_row.trust_email = False
    oidc_row.save()
    oidc_provider.add_user(invited.email, email_verified=False)
    response = oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    _refused(client, response, "did not confirm that the e-mail address is yours")
    event = refusals().get()
    assert event.detail == f"{oidc_row.key}: unverified"
    assert event.subject_hash  # groupable, not the address itself
    assert invited.email not in event.detail


def test_a_verified_claim_is_enough_when_the_provider_is_not_trusted_for_the_domain(
    client, oidc_provider, oidc_row, invited
):
    oidc_row.trust_email = False
    oidc_row.save()
    oidc_provider.add_user(invited.email, email_verified=True)
    oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    assert signed_in_as(client) == str(invited.pk)


def test_an_address_outside_the_allowed_domains_is_refused(
    client, oidc_provider, oidc_row, district, maple
):
    outsider = UserFactory(email="ann@gmail.com")
    MembershipFactory(user=outsider, district=district, school=maple)
    oidc_provider.add_user(outsider.email)
    response = oidc_sign_in(client, oidc_provider, oidc_row, outsider.email)
    _refused(client, response, "not in a domain this district signs in with")
    assert refusals().get().detail.endswith(": domain")


def test_nobody_signs_up(client, oidc_provider, oidc_row):
    oidc_provider.add_user(f"stranger@{DOMAIN}")
    response = oidc_sign_in(client, oidc_provider, oidc_row, f"stranger@{DOMAIN}")
    _refused(client, response, "no Pillarwise account for your e-mail address")
    from accounts.models import User

    assert not User.objects.filter(email=f"stranger@{DOMAIN}").exists()


def test_an_account_of_another_district_is_not_opened_by_this_districts_provider(
    client, oidc_provider, oidc_row, outsider
):
    outsider.email = f"out@{DOMAIN}"
    outsider.save()
    oidc_provider.add_user(outsider.email)
    response = oidc_sign_in(client, oidc_provider, oidc_row, outsider.email)
    _refused(client, response, "no Pillarwise account")


def test_a_switched_off_account_is_refused(client, oidc_provider, oidc_row, invited):
    invited.is_active = False
    invited.save()
    oidc_provider.add_user(invited.email)
    response = oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    _refused(client, response, "switched off")
    assert refusals().get().user == invited


def test_switching_off_ends_a_session_opened_through_the_provider(
    client, oidc_provider, oidc_row, invited, district_admin, district
):
    oidc_provider.add_user(invited.email)
    oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    assert client.get(reverse("today:home")).status_code == 200
    membership = invited.memberships.get()
    account_services.set_active(membership=membership, active=False, by=district_admin)
    response = client.get(reverse("today:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_switched_off_provider_signs_nobody_in(client, oidc_provider, oidc_row, invited):
    from identity.adapter import SocialAccountAdapter

    oidc_row.enabled = False
    oidc_row.save()
    assert SocialAccountAdapter().list_apps(None, provider=oidc_row.key) == []
    login_url = reverse("openid_connect_login", kwargs={"provider_id": oidc_row.key})
    assert client.post(login_url, {"process": "login"}).status_code == 404


def test_a_locked_out_account_is_refused_through_the_provider_too(
    client, oidc_provider, oidc_row, invited, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": invited.email, "password": "nope"})
    oidc_provider.add_user(invited.email)
    response = oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    assert response.status_code == 429
    assert signed_in_as(client) is None


def test_the_password_lockout_still_holds_for_an_account_linked_to_a_provider(
    client, oidc_provider, oidc_row, invited, settings
):
    from tests.conftest import PASSWORD

    invited.set_password(PASSWORD)
    invited.save()
    oidc_provider.add_user(invited.email)
    oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    client.logout()
    login = reverse("accounts:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": invited.email, "password": "wrong"})
    response = client.post(login, {"username": invited.email, "password": PASSWORD})
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("accept", "claims", "expected"),
    [
        (True, {"amr": ["pwd", "mfa"]}, "home"),
        (True, {"acr": "http://schemas.microsoft.com/claims/multipleauthn"}, "home"),
        (True, {"amr": ["pwd"]}, "setup"),
        (False, {"amr": ["pwd", "mfa"]}, "setup"),
    ],
)
def test_the_providers_second_factor_counts_only_where_the_district_accepts_it(
    client, oidc_provider, oidc_row, invited, district, accept, claims, expected
):
    district.require_two_factor = True
    district.save()
    settings = oidc_row.district.sign_in
    settings.accept_provider_mfa = accept
    settings.save()
    oidc_provider.add_user(invited.email, **claims)
    oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    response = client.get(reverse("today:home"))
    if expected == "home":
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_a_password_sign_in_after_an_sso_one_does_not_keep_the_providers_claim(
    client, oidc_provider, oidc_row, invited, district
):
    from tests.conftest import PASSWORD

    district.require_two_factor = True
    district.save()
    oidc_row.district.sign_in.accept_provider_mfa = True
    oidc_row.district.sign_in.save()
    invited.set_password(PASSWORD)
    invited.save()
    oidc_provider.add_user(invited.email, amr=["mfa"])
    oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    assert client.get(reverse("today:home")).status_code == 200
    client.logout()
    client.post(reverse("accounts:login"), {"username": invited.email, "password": PASSWORD})
    response = client.get(reverse("today:home"))
    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_a_district_may_turn_passwords_off(client, oidc_row, invited, admin_user):
    from tests.conftest import PASSWORD

    invited.set_password(PASSWORD)
    invited.save()
    oidc_row.district.sign_in.passwords_allowed = False
    oidc_row.district.sign_in.save()
    response = client.post(
        reverse("accounts:login"), {"username": invited.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "signs in through its own accounts" in response.content.decode()
    assert signed_in_as(client) is None


def test_the_secret_is_sealed_at_rest_never_shown_and_never_logged(
    client, login, oidc_provider, oidc_row, invited, district_admin, caplog
):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed_secret FROM identity_provider WHERE id = %s", [oidc_row.pk])
        (stored,) = cursor.fetchone()
    assert CLIENT_SECRET not in stored
    caplog.set_level(logging.DEBUG)
    oidc_provider.add_user(invited.email)
    oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    assert signed_in_as(client) == str(invited.pk)
    admin = login(district_admin)
    pages = [
        reverse("identity:settings", args=[oidc_row.district_id]),
        reverse("identity:provider_edit", args=[oidc_row.pk]),
        reverse("identity:provider_new", args=[oidc_row.district_id]),
    ]
    for url in pages:
        body = admin.get(url).content.decode()
        assert CLIENT_SECRET not in body, url
    # A refused save (the form comes back) does not echo the typed secret either.
    refused = admin.post(
        reverse("identity:provider_edit", args=[oidc_row.pk]),
        {"name": "", "secret": "brand-new-secret-value-123", "server_url": "nope"},
    )
    assert refused.status_code == 400
    assert "brand-new-secret-value-123" not in refused.content.decode()
    assert CLIENT_SECRET not in caplog.text
    assert "brand-new-secret-value-123" not in caplog.text


def test_a_new_secret_replaces_the_old_and_an_empty_field_keeps_it(
    client, login, oidc_row, district_admin
):
    admin = login(district_admin)
    url = reverse("identity:provider_edit", args=[oidc_row.pk])
    data = {
        "name": "Loopback IdP",
        "enabled": "on",
        "server_url": oidc_row.server_url,
        "client_id": oidc_row.client_id,
        "trust_email": "on",
    }
    assert admin.post(url, {**data, "secret": ""}).status_code == 302
    oidc_row.refresh_from_db()
    assert oidc_row.secret() == CLIENT_SECRET
    assert admin.post(url, {**data, "secret": "another-secret"}).status_code == 302
    oidc_row.refresh_from_db()
    assert oidc_row.secret() == "another-secret"
    assert AuditEvent.objects.filter(kind=Kind.SIGN_IN_SETTINGS).count() == 2


def test_the_start_page_finds_the_districts_provider_by_address(client, oidc_row):
    response = client.post(reverse("identity:start"), {"email": f"someone@{DOMAIN}"})
    body = response.content.decode()
    assert "Sign in with Loopback IdP" in body
    assert reverse("openid_connect_login", kwargs={"provider_id": oidc_row.key}) in body
    other = client.post(reverse("identity:start"), {"email": "someone@elsewhere.org"})
    assert "Loopback IdP" not in other.content.decode()
    assert "ask your district admin" in other.content.decode()


def test_a_provider_needs_its_secret(client, login, district, district_admin, sign_in_settings):
    admin = login(district_admin)
    response = admin.post(
        reverse("identity:provider_new", args=[district.pk]),
        {
            "kind": Provider.Kind.GOOGLE,
            "name": "Google",
            "enabled": "on",
            "client_id": "abc.apps.googleusercontent.com",
            "trust_email": "on",
        },
    )
    assert response.status_code == 400
    assert "client secret" in response.content.decode()
    assert not Provider.objects.exists()


def test_an_account_signed_in_through_the_provider_sees_only_its_schools(
    client, oidc_provider, oidc_row, invited, maple, cedar, elsewhere
):
    oidc_provider.add_user(invited.email)
    oidc_sign_in(client, oidc_provider, oidc_row, invited.email)
    assert client.get(reverse("schools:school_detail", args=[maple.pk])).status_code == 200
    for school in (cedar, elsewhere):
        assert client.get(reverse("schools:school_detail", args=[school.pk])).status_code == 404
