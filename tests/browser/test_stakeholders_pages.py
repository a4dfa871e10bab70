"""A principal's survey pages (builder, results with a chart, community) pass axe-core."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


def test_the_principals_survey_pages_are_accessible(page, demo, axe_check):
    from django_scopes import scopes_disabled

    from stakeholders.models import Survey

    with scopes_disabled():
        survey = Survey.objects.get(
            schools__code="MGE", title="Before we choose: what do you need?"
        )
    sign_in(page, "principal@riverbend.example.org", "pillarwise-demo")
    page.goto("/stakeholders/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Stakeholders")
    axe_check(page)
    page.goto(survey.get_absolute_url())
    axe_check(page)
    page.goto(f"/stakeholders/surveys/{survey.pk}/results/")
    expect(page.locator("canvas[data-chart-source='likert-data']")).to_be_visible()
    expect(page.get_by_text("You told us time was the hardest part")).to_be_visible()
    axe_check(page)
    page.goto(f"/stakeholders/surveys/{survey.pk}/links/")
    axe_check(page)
    page.get_by_role("link", name="Stakeholders").first.click()
    page.get_by_role("link", name="Maple Grove Elementary").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("stories, partners")
    axe_check(page)
