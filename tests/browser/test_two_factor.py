"""Two-factor set-up and the paused sign-in page, with the keyboard and the axe scan."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

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
