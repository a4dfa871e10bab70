"""The district admin's sign-in settings: who may open them, what they show, what they refuse,
and what they cost."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts import services as account_services
from identity.models import Provider, SignInSettings
from schools.models import Role

from .conftest import CLIENT_SECRET, DOMAIN, oidc_sign_in

pytestmark = pytest.mark.django_db


def test_only_a_district_admin_opens_them(client, login, district, principal):
    response = login(principal).get(reverse("identity:settings", args=[district.pk]))
    assert response.status_code == 403


def test_it_shows_what_to_give_each_provider(client, login, district_admin, oidc_row):
    body = login(district_admin).get(reverse("identity:settings", args=[oidc_row.district_id]))
    text = body.content.decode()
    assert f"http://testserver/sso/oidc/{oidc_row.key}/login/callback/" in text
    assert "Saved (never shown)" in text


def test_a_bad_domain_is_a_field_error_and_nothing_is_saved(
    client, login, district, district_admin
):
    admin = login(district_admin)
    url = reverse("identity:settings", args=[district.pk])
    response = admin.post(
        url, {"allowed_domains": "riverbend.k12.us\nnot a domain!", "mfa_contexts": ""}
    )
    assert response.status_code == 200
    assert "is not a domain" in response.content.decode()
    assert SignInSettings.objects.get(district=district).allowed_domains == ""


def test_domains_are_kept_one_per_line_lower_case(client, login, district, district_admin):
    admin = login(district_admin)
    url = reverse("identity:settings", args=[district.pk])
    response = admin.post(
        url,
        {"allowed_domains": "Riverbend.K12.us, @staff.riverbend.org", "passwords_allowed": "on"},
    )
    assert response.status_code == 302
    saved = SignInSettings.objects.get(district=district)
    assert saved.domains() == ["riverbend.k12.us", "staff.riverbend.org"]


@pytest.mark.parametrize("count", [1, 4])
def test_the_settings_page_costs_the_same_whatever_the_number_of_providers(
    client, login, district, district_admin, sign_in_settings, count, django_assert_num_queries
):
    for n in range(count):
        provider = Provider(
            district=district,
            kind="oidc",
            name=f"P{n}",
            key=f"p{n}",
            server_url="https://idp.example.org",
            client_id="c",
        )
        provider.set_secret("s")
        provider.save()
    admin = login(district_admin)
    url = reverse("identity:settings", args=[district.pk])
    admin.get(url)  # warm the session and the access read
    with django_assert_num_queries(QUERIES):
        assert admin.get(url).status_code == 200


# One for access: a district admin's membership no longer lists the district's schools.
QUERIES = 6


def test_the_start_page_costs_the_same_whatever_the_number_of_providers(
    client, district, sign_in_settings, django_assert_num_queries
):
    for n in range(3):
        provider = Provider(
            district=district,
            kind="oidc",
            name=f"P{n}",
            key=f"p{n}",
            server_url="https://idp.example.org",
            client_id="c",
        )
        provider.set_secret("s")
        provider.save()
    with django_assert_num_queries(START_QUERIES):
        response = client.post(reverse("identity:start"), {"email": f"a@{DOMAIN}"})
    assert response.content.decode().count("Sign in with P") == 3


START_QUERIES = 2


def test_an_invitation_says_to_sign_in_with_the_districts_account(
    django_capture_on_commit_callbacks, district, maple, district_admin, oidc_row
):
    with django_capture_on_commit_callbacks(execute=True):
        account_services.invite_user(
            district=district,
            email=f"new@{DOMAIN}",
            full_name="New Person",
            role=Role.COACH,
            school=maple,
            invited_by=district_admin,
        )
    body = mail.outbox[-1].body
    assert "with your district account (Loopback IdP)" in body
    assert f"http://127.0.0.1:8000{reverse('identity:start')}" in body
    assert "Or choose a Pillarwise password" in body


def test_an_invitation_of_a_district_without_passwords_sends_no_password_link(
    django_capture_on_commit_callbacks, district, maple, district_admin, oidc_row
):
    oidc_row.district.sign_in.passwords_allowed = False
    oidc_row.district.sign_in.save()
    with django_capture_on_commit_callbacks(execute=True):
        account_services.invite_user(
            district=district,
            email=f"new@{DOMAIN}",
            full_name="New Person",
            role=Role.COACH,
            school=maple,
            invited_by=district_admin,
        )
    body = mail.outbox[-1].body
    assert "Loopback IdP" in body
    assert "/accounts/password/set/" not in body


def test_an_invitation_outside_the_domains_offers_the_password(
    django_capture_on_commit_callbacks, district, maple, district_admin, oidc_row
):
    with django_capture_on_commit_callbacks(execute=True):
        account_services.invite_user(
            district=district,
            email="new@gmail.com",
            full_name="New Person",
            role=Role.COACH,
            school=maple,
            invited_by=district_admin,
        )
    body = mail.outbox[-1].body
    assert "Loopback IdP" not in body
    assert "Choose your password to get started" in body


def test_a_person_invited_by_email_signs_in_with_the_provider_straight_away(
    django_capture_on_commit_callbacks,
    client,
    district,
    maple,
    district_admin,
    oidc_provider,
    oidc_row,
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = account_services.invite_user(
            district=district,
            email=f"new@{DOMAIN}",
            full_name="New Person",
            role=Role.COACH,
            school=maple,
            invited_by=district_admin,
        )
    oidc_provider.add_user(f"new@{DOMAIN}")
    oidc_sign_in(client, oidc_provider, oidc_row, f"new@{DOMAIN}")
    assert client.session["_auth_user_id"] == str(membership.user_id)
    assert CLIENT_SECRET not in mail.outbox[-1].body
