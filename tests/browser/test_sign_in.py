import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "pillarwise-demo"


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


def test_the_demo_principal_signs_in_and_lands_on_the_principal_home(page, demo, axe_check):
    sign_in(page, "principal@riverbend.example.org", DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Marisol")
    expect(page.get_by_role("heading", name="Your schools")).to_be_visible()
    your_schools = page.get_by_role("region", name="Your schools")
    expect(your_schools.get_by_role("link", name="Maple Grove Elementary").first).to_be_visible()
    assert page.url.endswith("/")
    axe_check(page)


def test_a_wrong_password_shows_an_error(page, demo, axe_check):
    sign_in(page, "principal@riverbend.example.org", "this is not the password")
    expect(page.get_by_text("correct e-mail address and password")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Pillarwise")
    axe_check(page)


def test_signing_in_works_with_the_keyboard_alone(page, demo):
    page.goto("/accounts/login/")
    expect(page.get_by_label("E-mail address")).to_be_focused()  # autofocus
    page.keyboard.type("coach@riverbend.example.org")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Professional learning")).to_be_visible()
    # The skip link is the first thing the keyboard reaches, and it moves focus to main.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()


def test_pages_work_on_a_phone(phone, demo, axe_check):
    sign_in(phone, "admin@riverbend.example.org", DEMO_PASSWORD)
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    toggle = phone.get_by_role("button", name="Toggle navigation")
    expect(toggle).to_be_visible()
    toggle.click()
    expect(phone.get_by_role("link", name="Schools")).to_be_visible()
    axe_check(phone)


@pytest.mark.parametrize(
    ("who", "name", "arg"),
    [
        ("admin", "schools:school_list", None),
        ("admin", "schools:district_settings", "district"),
        ("admin", "accounts:invite", "district"),
        ("admin", "accounts:members", "district"),
        ("principal", "schools:school_detail", "school"),
        ("principal", "schools:school_edit", "school"),
        ("coach", "schools:staff_list", "school"),
        ("coach", "schools:staff_add", "school"),
    ],
)
def test_pages_pass_the_accessibility_scan(page, demo, axe_check, who, name, arg):
    from django.urls import reverse

    from schools.models import School

    maple = School.objects.get(code="MGE")
    args = {"school": [maple.pk], "district": [maple.district_id], None: []}[arg]
    path = reverse(name, args=args)
    sign_in(page, f"{who}@riverbend.example.org", DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe_check(page)
