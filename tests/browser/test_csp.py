"""Every app's main pages run under the Content-Security-Policy without a violation:
scripts only from our origin, no inline styles, no eval (htmx and Chart.js included)."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from equity.inventory.models import Device
from equity.year.models import StationEvent
from initiatives.models import Initiative
from pd.models import PDSession
from schools.models import District, School
from stakeholders.models import Survey
from tests.browser.conftest import csp_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "pillarwise-demo"


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


def _main_pages():
    district = District.objects.get()
    school = School.objects.get(code="MGE")
    session = PDSession.objects.order_by("-date").first()
    survey = Survey.objects.order_by("pk").first()
    initiative = Initiative.objects.order_by("pk").first()
    device = Device.objects.filter(school=school).first()
    pages = [
        "/",
        reverse("schools:school_list"),
        reverse("schools:school_detail", args=[school.pk]),
        reverse("schools:staff_list", args=[school.pk]),
        reverse("schools:district_settings", args=[district.pk]),
        reverse("accounts:members", args=[district.pk]),
        reverse("accounts:two_factor"),
        reverse("accounts:two_factor_setup"),
        reverse("equity:inventory"),
        reverse("equity:coverage", args=[school.pk]),
        reverse("equity:district_coverage", args=[district.pk]),
        reverse("equity:station_events", args=[school.pk]),
        reverse("pd:session_list"),
        reverse("pd:calendar"),
        reverse("pd:reports"),
        reverse("stakeholders:home"),
        reverse("stakeholders:community", args=[school.pk]),
        reverse("initiatives:list"),
    ]
    if device:
        pages.append(reverse("equity:device_detail", args=[device.pk]))
    if session:
        pages.append(reverse("pd:session_detail", args=[session.pk]))
    if survey:
        pages += [
            reverse("stakeholders:survey_detail", args=[survey.pk]),
            reverse("stakeholders:survey_results", args=[survey.pk]),
        ]
    if initiative:
        pages.append(reverse("initiatives:detail", args=[initiative.pk]))
    event = StationEvent.objects.filter(school=school).first()
    if event:
        pages.append(event.get_absolute_url())
    return pages


def test_the_main_pages_of_every_app_raise_no_csp_violation(page, demo):
    sign_in(page, "admin@riverbend.example.org", DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    pages = _main_pages()
    assert len(pages) >= 20
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert not csp_violations(page), (path, csp_violations(page))
    # Charts drew (Chart.js runs without eval) on the pages that have them.
    page.goto(reverse("pd:reports"))
    expect(page.locator("canvas").first).to_be_visible()


def test_the_admin_runs_under_the_policy(page, demo):
    sign_in(page, "root@riverbend.example.org", DEMO_PASSWORD)
    for path in ("/admin/", "/admin/accounts/user/", "/admin/schools/school/"):
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert not csp_violations(page), (path, csp_violations(page))


def test_an_htmx_swap_injects_no_style(page, demo):
    """htmx's indicator styles would be an inline <style> (refused); they come from CSS."""
    sign_in(page, "admin@riverbend.example.org", DEMO_PASSWORD)
    page.goto(reverse("equity:inventory"))
    assert page.evaluate("document.querySelectorAll('head style').length") == 0
    assert page.evaluate("htmx.config.allowEval") is False
