"""Signing in with the district's account, end to end in a browser: the site's sign-in page,
a real OpenID Connect provider on loopback, and back, on the suite's database (PostgreSQL on
CI) with no test transaction around the live server's requests."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from core.models import AuditEvent, Kind
from identity.models import Provider, SignInSettings
from schools.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.oidc import CLIENT_ID, CLIENT_SECRET, oidc_provider  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOMAIN = "riverbend.k12.us"


@pytest.fixture
def sso(district, maple, oidc_provider, live_server):  # noqa: F811
    SignInSettings.objects.create(district=district, allowed_domains=DOMAIN)
    provider = Provider(
        district=district,
        kind=Provider.Kind.OIDC,
        name="Riverbend Google",
        key="riverbend-google",
        server_url=oidc_provider.issuer,
        client_id=CLIENT_ID,
    )
    provider.set_secret(CLIENT_SECRET)
    provider.save()
    callback = reverse("openid_connect_callback", kwargs={"provider_id": provider.key})
    oidc_provider.redirect_uris.add(f"{live_server.url}{callback}")
    provider.idp = oidc_provider
    return provider


def _through_the_provider(page, email):
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with your district account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in with your district account")
    page.get_by_label("Your district e-mail address").fill(email)
    page.get_by_label("Your district e-mail address").press("Enter")
    page.get_by_role("button", name="Sign in with Riverbend Google").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Loopback IdP sign-in")
    page.get_by_label("Account").fill(email)
    page.get_by_role("button", name="Sign in at the IdP").click()


def test_an_invited_person_signs_in_with_the_districts_account(page, sso, maple, axe_check):
    person = UserFactory(email=f"ann@{DOMAIN}", full_name="Ann Invited")
    MembershipFactory(user=person, district=maple.district, school=maple, role=Role.PRINCIPAL)
    sso.idp.add_user(person.email, name="Ann Invited")
    page.goto("/accounts/login/")
    axe_check(page)
    _through_the_provider(page, person.email)
    page.wait_for_url(f"**{reverse('today:home')}")
    expect(page.get_by_text("Maple Elementary").first).to_be_visible()
    person.refresh_from_db()
    assert person.last_login is not None
    assert person.socialaccount_set.get().provider == sso.key


def test_a_stranger_gets_a_clear_page_and_an_audit_event(page, sso, axe_check):
    sso.idp.add_user(f"stranger@{DOMAIN}")
    _through_the_provider(page, f"stranger@{DOMAIN}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You cannot sign in to Pillarwise this way"
    )
    expect(page.get_by_text("Ask your district admin")).to_be_visible()
    axe_check(page)
    assert AuditEvent.objects.filter(kind=Kind.SSO_REFUSED).count() == 1


def test_the_district_sign_in_page_works_on_a_phone_by_keyboard(phone, sso, axe_check):
    phone.goto(reverse("identity:start"))
    field = phone.get_by_label("Your district e-mail address")
    field.focus()
    field.type(f"someone@{DOMAIN}")
    phone.keyboard.press("Enter")
    button = phone.get_by_role("button", name="Sign in with Riverbend Google")
    expect(button).to_be_visible()
    axe_check(phone)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= phone.viewport_size["width"]
