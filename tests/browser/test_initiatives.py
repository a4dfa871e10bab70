"""A principal plans an initiative from the why, and rollout waits until people were heard."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "pillarwise-demo"


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


def test_the_wizard_then_rollout_waits_for_the_survey_to_close(page, demo, axe_check, row_locks):
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from initiatives.models import Initiative
    from tests.factories import SurveyFactory

    sign_in(page, "principal@riverbend.example.org", DEMO_PASSWORD)
    page.goto("/initiatives/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("New initiative")
    expect(page.get_by_role("heading", level=2)).to_contain_text("why")
    expect(page.get_by_label("Title")).to_have_count(0)  # the why comes first
    axe_check(page)
    page.get_by_label("Why: what should change in teaching and learning?").fill(
        "Students explain their reasoning aloud and hear each other."
    )
    page.get_by_label("What should students learn or be able to do?").fill(
        "Record a two-minute explanation of a math strategy each week."
    )
    page.get_by_role("button", name="Next: the what").click()

    expect(page.get_by_role("heading", level=2)).to_contain_text("what")
    axe_check(page)
    page.get_by_label("Title").fill("Math talk recordings")
    schools = page.get_by_role("combobox", name="Schools")
    schools.fill("Maple")
    page.get_by_role("option", name="Maple Grove Elementary").click()
    expect(page.get_by_role("checkbox", name="Maple Grove Elementary")).to_be_checked()
    page.get_by_label("Student engagement, learning & outcomes").check()
    page.get_by_role("button", name="Create initiative").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Math talk recordings")
    expect(page.locator("[data-status]")).to_have_text("Idea")
    axe_check(page)
    with scopes_disabled():
        initiative = Initiative.objects.get(title="Math talk recordings")
        survey = SurveyFactory(
            initiative=initiative,
            schools=list(initiative.schools.all()),
            title="Students: how do you like to explain your thinking?",
        )

    page.get_by_label("Move to").select_option(label="Planning")
    page.get_by_role("button", name="Move").click()
    expect(page.locator("[data-status]")).to_have_text("Planning")

    for name in ["Data privacy", "Accessibility review", "Parent notice"]:
        page.locator("[data-compliance] a", has_text=name).click()
        page.get_by_label("Status").select_option(label="Done")
        page.get_by_role("button", name="Save compliance item").click()
    expect(page.locator("[data-readiness]")).to_contain_text("every compliance item is done")

    page.get_by_label("Move to").select_option(label="Rollout")
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_text("Listen first: no stakeholder survey")).to_be_visible()
    expect(page.locator("[data-status]")).to_have_text("Planning")
    axe_check(page)  # the page with the refusal on its field

    # A principal may go ahead to a pilot anyway, with the reason on the record.
    page.get_by_label("Move to").select_option(label="Pilot")
    page.get_by_label("Going ahead before a survey has closed? Say why").fill(
        "The recording tablets must be tried before the grant ends in June."
    )
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_text("The override reason is on the record.")).to_be_visible()
    expect(page.locator("[data-status]")).to_have_text("Pilot")
    expect(page.locator("[data-history]")).to_contain_text("Listening rule overridden")
    axe_check(page)

    with scopes_disabled():
        survey.closed_on = timezone.localdate()
        survey.save()
    page.goto(f"/initiatives/{initiative.pk}/")
    expect(page.locator("[data-readiness]")).to_contain_text("has closed")
    page.get_by_label("Move to").select_option(label="Rollout")
    page.get_by_role("button", name="Move").click()
    expect(page.locator("[data-status]")).to_have_text("Rollout")
    expect(page.locator("[data-history]")).to_contain_text("Pilot → Rollout")
    with scopes_disabled():
        moves = initiative.status_changes.order_by("at", "pk")
        assert list(moves.values_list("from_status", "to_status", "override_reason")) == [
            ("", "idea", ""),
            ("idea", "planning", ""),
            (
                "planning",
                "pilot",
                "The recording tablets must be tried before the grant ends in June.",
            ),
            ("pilot", "rollout", ""),
        ]
        assert Initiative.objects.get(pk=initiative.pk).status == "rollout"
    row_locks.assert_taken("initiatives.services:initiative_move")


@pytest.mark.parametrize(
    "page_name", ["list", "rollout", "override", "summary", "swot", "reflections", "edit"]
)
def test_the_initiative_pages_pass_the_accessibility_scan(page, demo, axe_check, page_name):
    from django.urls import reverse
    from django_scopes import scopes_disabled

    from initiatives.demo import OVERRIDE_TITLE, ROLLOUT_TITLE
    from initiatives.models import Initiative
    from schools.models import School

    with scopes_disabled():
        maple = School.objects.get(code="MGE")
        rollout = Initiative.objects.get(title=ROLLOUT_TITLE)
        override = Initiative.objects.get(title=OVERRIDE_TITLE)
    path, email = {
        "list": (reverse("initiatives:school", args=[maple.pk]), "principal@"),
        "rollout": (rollout.get_absolute_url(), "principal@"),
        "override": (override.get_absolute_url(), "admin@"),
        "summary": (reverse("initiatives:summary", args=[rollout.pk]), "principal@"),
        "swot": (reverse("initiatives:swot_list", args=[maple.pk]), "principal@"),
        "reflections": (reverse("initiatives:reflections", args=[maple.pk]), "principal@"),
        "edit": (reverse("initiatives:edit", args=[rollout.pk]), "principal@"),
    }[page_name]
    sign_in(page, f"{email}riverbend.example.org", DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe_check(page)


def test_the_board_summary_prints_on_one_page(page, demo):
    from django_scopes import scopes_disabled

    from initiatives.demo import ROLLOUT_TITLE
    from initiatives.models import Initiative

    with scopes_disabled():
        rollout = Initiative.objects.get(title=ROLLOUT_TITLE)
    sign_in(page, "principal@riverbend.example.org", DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(f"/initiatives/{rollout.pk}/summary/")
    pdf = page.pdf(format="Letter")  # the browser's print of the page, print stylesheet on
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 1, f"the summary prints on {pages} pages"


def test_the_initiative_page_fits_a_phone(phone, demo):
    from django_scopes import scopes_disabled

    from initiatives.demo import ROLLOUT_TITLE
    from initiatives.models import Initiative

    with scopes_disabled():
        rollout = Initiative.objects.get(title=ROLLOUT_TITLE)
    sign_in(phone, "principal@riverbend.example.org", DEMO_PASSWORD)
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    phone.goto(rollout.get_absolute_url())
    expect(phone.get_by_role("heading", level=1)).to_have_text(ROLLOUT_TITLE)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
