"""The principal's radar of the seven pillars and the district heat map, in Chromium."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "pillarwise-demo"


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


def _maple_pk():
    from django_scopes import scopes_disabled

    from schools.models import School

    with scopes_disabled():
        return School.objects.get(code="MGE").pk


def test_the_radar_draws_the_seven_pillars(page, demo, axe_check):
    sign_in(page, "principal@riverbend.example.org", DEMO_PASSWORD)
    page.get_by_role("link", name="Readiness").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Readiness")
    page.get_by_role("link", name="Maple Grove Elementary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Readiness of Maple Grove Elementary")
    radar = page.locator("#readiness-radar")
    expect(radar).to_be_visible()
    drawn = page.evaluate(
        """() => {
            const chart = window.Chart.getChart(document.getElementById('readiness-radar'));
            return chart ? {type: chart.config.type, labels: chart.data.labels.length,
                            points: chart.data.datasets[0].data.length} : null;
        }"""
    )
    assert drawn == {"type": "radar", "labels": 7, "points": 7}
    # The trend line is drawn from the demo's back-dated history.
    assert page.evaluate("() => document.querySelectorAll('canvas[data-chart=line]').length") == 1
    expect(page.get_by_role("heading", name="What changed since last time")).to_be_visible()
    axe_check(page)


def test_recompute_now_from_the_keyboard(page, demo):
    sign_in(page, "principal@riverbend.example.org", DEMO_PASSWORD)
    page.goto(f"/readiness/schools/{_maple_pk()}/")
    page.get_by_role("button", name="Recompute now").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Recomputing Maple Grove Elementary")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Last computed")).to_be_visible()


def test_the_district_heat_map_on_a_phone(phone, demo, axe_check):
    sign_in(phone, "admin@riverbend.example.org", DEMO_PASSWORD)
    phone.goto("/readiness/")
    phone.get_by_role("link", name="Compare every school").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Readiness across")
    # The wide table scrolls sideways on a phone; sort from the keyboard.
    phone.get_by_role("link", name="Professional learning").focus()
    phone.keyboard.press("Enter")
    expect(phone.locator("caption").first).to_contain_text("sorted by Professional learning")
    expect(phone.get_by_role("table").first).to_contain_text("Maple Grove Elementary")
    axe_check(phone)


def test_the_targets_page_passes_the_accessibility_scan(page, demo, axe_check):
    sign_in(page, "admin@riverbend.example.org", DEMO_PASSWORD)
    page.goto("/readiness/")
    page.get_by_role("link", name="Compare every school").click()
    page.get_by_role("link", name="Targets and weights").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Readiness targets")
    page.get_by_label("Target for mean pd feedback rating").fill("9")
    page.get_by_role("button", name="Save targets").click()
    expect(page.get_by_text("at most 5")).to_be_visible()
    axe_check(page)
