"""The API's documentation page: Swagger UI served by Pillarwise itself renders the
schema under the site's Content-Security-Policy (the ``page`` fixture fails the test on
any violation the browser reports), for a signed-in person, with nothing from another host."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_documentation_renders_under_the_csp(page, district_admin, live_server, axe_check):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    sign_in(page, district_admin.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("api:docs"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Pillarwise API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert all(url.startswith(live_server.url) for url in requested), [
        u for u in requested if not u.startswith(live_server.url)
    ]
    axe_check(page)
