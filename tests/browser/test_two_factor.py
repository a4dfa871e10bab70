"""Two-factor set-up, sign-in with a code, and the paused sign-in page, with the keyboard
and the axe scan.

These run against the live server on the suite's database (PostgreSQL on CI) with no test
transaction around the requests (issue 15, item 5): django-otp reads a person's devices
locked, which fails outside a transaction, so a sign-in that only ever ran inside the
suite's transaction could answer 500 in production.
"""

import re

import pytest
from django.db import connection
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts import two_factor
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_required_principal_sets_up_two_factor_before_anything_else(
    page, district, principal, axe_check
):
    district.require_two_factor = True
    district.save()
    sign_in(page, principal.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    axe_check(page)

    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_text("That code does not match")).to_be_visible()
    axe_check(page)

    # django-otp makes a device wait after a wrong code; the test lifts that wait instead
    # of sleeping through it.
    device = TOTPDevice.objects.get(user=principal)
    device.throttle_reset()
    page.get_by_label("Code").fill(f"{totp(device.bin_key):06d}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator(".font-monospace li")).to_have_count(10)
    axe_check(page)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Set up two-factor sign-in")


def test_the_paused_sign_in_page_is_accessible(page, principal, axe_check, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(page, principal.email, "not the password at all")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in is paused for a while")
    axe_check(page)


# --- signing in with a device the person already has -------------------------------------


def code_for(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def authenticator(coach):
    return TOTPDevice.objects.create(user=coach, name="Authenticator app", confirmed=True)


def test_requests_commit_on_their_own(db):
    # What makes these tests worth having: no transaction wraps the live server's requests.
    assert connection.get_autocommit()


def test_a_person_signs_in_with_a_code_from_their_authenticator(page, coach, authenticator):
    sign_in(page, coach.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    page.get_by_label("Code").fill(code_for(authenticator))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Cory")
    authenticator.refresh_from_db()
    assert authenticator.last_used_at is not None
    page.goto("/pd/")
    expect(page).to_have_url(re.compile(r"/pd/$"))


def test_a_person_without_their_phone_signs_in_once_with_each_recovery_code(
    page, coach, authenticator, axe_check
):
    codes = two_factor.new_recovery_codes(coach)
    sign_in(page, coach.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    axe_check(page)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Cory")
    assert not StaticToken.objects.filter(token=codes[0]).exists()

    page.context.clear_cookies()  # a new session: signed out
    sign_in(page, coach.email, PASSWORD)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not valid")).to_be_visible()
    axe_check(page)


def test_a_district_that_requires_two_factor_lets_its_people_in_with_their_code(
    page, district, principal
):
    district.require_two_factor = True
    district.save()
    device = TOTPDevice.objects.create(user=principal, name="Authenticator app", confirmed=True)
    two_factor.new_recovery_codes(principal)
    sign_in(page, principal.email, PASSWORD)
    # Asked for the code of the device they have, not sent to set up another one.
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    page.goto("/schools/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")

    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not valid")).to_be_visible()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # the failure was committed
    device.throttle_reset()  # as if the wait had passed
    page.get_by_label("Code").fill(code_for(device))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/schools/$"))
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Confirm it is you")

    page.goto("/accounts/two-factor/")
    expect(page.get_by_text("cannot be turned off")).to_be_visible()
    expect(page.get_by_role("button", name="Turn off two-factor sign-in")).to_have_count(0)
