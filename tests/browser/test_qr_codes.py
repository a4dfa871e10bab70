"""Every QR code of the site draws in the browser: the PD check-in code (served as an SVG
file) and the two-factor set-up code (a data URI). An SVG without its XML namespace loads
but draws nothing, which only a browser shows (natural width 0)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.images import undrawn_images
from tests.conftest import PASSWORD
from tests.factories import PDSessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pd_check_in_code_draws(page, coach, maple):
    session = PDSessionFactory(schools=[maple], title="Exit tickets", facilitator_user=coach)
    sign_in(page, coach.email, PASSWORD)
    page.goto(session.get_absolute_url())
    qr = page.get_by_role("img", name="QR code")
    expect(qr).to_be_visible()
    assert undrawn_images(page) == []
    assert qr.evaluate("(img) => img.naturalWidth") > 0


def test_the_two_factor_set_up_code_draws(page, principal):
    sign_in(page, principal.email, PASSWORD)
    page.goto("/accounts/two-factor/set-up/")
    qr = page.get_by_role("img", name="QR code")
    expect(qr).to_be_visible()
    assert undrawn_images(page) == []
    assert qr.evaluate("(img) => img.naturalWidth") > 0
