"""Each role's home page in Chromium, on the demo: it shows what needs the person now, works
on a phone and from the keyboard, and passes the accessibility scan; the loss report draws
its chart; the e-mail settings and the unsubscribe page work."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "pillarwise-demo"

# Per demo person: the section headings their home must show, and an item of the demo's.
HOMES = {
    "principal@riverbend.example.org": (
        [
            "Readiness since last week",
            "Initiatives blocked",
            "Surveys open",
            "Milestones due in 14 days or overdue",
            "Sign-offs awaited",
        ],
        "Order headphones for the listening stations",
    ),
    "coach@riverbend.example.org": (
        [
            "Sessions this week and next",
            "Teachers with no PD or far below the target",
            "Feedback to ask for",
            "Learning Leaders' next sessions",
            "Needs-poll results not acted on",
        ],
        "Feedback that moves learning",
    ),
    "tech@riverbend.example.org": (
        [
            "Devices not returned after collection day",
            "In repair for more than 14 days",
            "Lost this month, by circumstance",
            "Handout and collection days",
            "Auto-update expirations within 12 months",
            "Device agreements not signed",
            "Charges due",
            "Students who need a hotspot",
        ],
        "Left on public transit",
    ),
    "admin@riverbend.example.org": (
        [
            "Riverbend Unified School District: schools by need",
            "Runs that failed this month",
            "Accounts waiting for activation",
        ],
        "Amara Diallo",
    ),
}


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


@pytest.mark.parametrize("email", HOMES)
def test_each_home_on_a_phone_shows_its_items(phone, demo, axe_check, email):
    headings, item = HOMES[email]
    sign_in(phone, email, DEMO_PASSWORD)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Welcome")
    for heading in headings:
        expect(phone.get_by_role("heading", name=heading, exact=False).first).to_be_visible()
    expect(phone.get_by_text(item).first).to_be_visible()
    # Nothing sideways on a 390 px screen.
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    axe_check(phone)


def test_the_principal_reaches_an_item_by_keyboard(page, demo):
    sign_in(page, "principal@riverbend.example.org", DEMO_PASSWORD)
    link = page.get_by_role("link", name="Order headphones for the listening stations", exact=False)
    expect(link).to_be_visible()
    for _ in range(80):  # Tab through the page until the item has focus
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()").startswith(
            "Order headphones for the listening stations"
        ):
            break
    else:
        raise AssertionError("the item is not reachable by Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("milestone", ignore_case=True)


def test_the_loss_report_draws_its_chart(page, demo, axe_check):
    sign_in(page, "tech@riverbend.example.org", DEMO_PASSWORD)
    page.get_by_role("link", name="Lost this month, by circumstance", exact=False)
    page.get_by_role("link", name="Devices lost at Cedar Ridge Middle School").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Devices lost at Cedar Ridge")
    page.wait_for_function(
        "() => window.Chart && window.Chart.getChart(document.querySelector('canvas'))"
    )
    expect(page.get_by_role("table").first).to_contain_text("Left on public transit")
    axe_check(page)


def test_email_settings_by_keyboard(page, demo, axe_check):
    sign_in(page, "coach@riverbend.example.org", DEMO_PASSWORD)
    page.get_by_role("link", name="E-mail settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("E-mail settings")
    box = page.get_by_label("Weekly digest of your home page")
    box.focus()
    page.keyboard.press("Space")
    expect(box).not_to_be_checked()
    page.get_by_role("button", name="Save").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your e-mail settings were saved.")).to_be_visible()
    expect(page.get_by_label("Weekly digest of your home page")).not_to_be_checked()
    axe_check(page)


def test_the_unsubscribe_link_works_signed_out(page, demo, axe_check):
    from accounts.models import User
    from today.models import OptOut
    from today.notices import unsubscribe_token

    user = User.objects.get(email="tech@riverbend.example.org")
    page.goto(f"/notices/unsubscribe/{unsubscribe_token(user.pk, 'digest')}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop this e-mail?")
    axe_check(page)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    assert OptOut.objects.filter(user=user, kind="digest").exists()
