"""The type-ahead choice on a phone, by keyboard, for a district admin: axe-clean, CSP-clean.

The district admin logs a PD session at two schools and names its facilitator without a
pointer: type part of a name, ArrowDown through the listbox (aria-activedescendant follows),
Enter to pick. The picked school joins the ticked boxes and the roster reloads.
"""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "pillarwise-demo"


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


def _pick(page, label: str, text: str) -> str:
    """Type ``text`` in the combobox ``label``, move to the first match by keyboard, pick it;
    the picked option's text."""
    box = page.get_by_role("combobox", name=label)
    box.focus()
    page.keyboard.type(text)
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    first = listbox.get_by_role("option").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    picked = first.inner_text()
    page.keyboard.press("Enter")
    expect(listbox).to_be_hidden()
    return picked


def test_a_district_admin_logs_a_session_by_type_ahead_on_a_phone(phone, demo, axe_check):
    from django_scopes import scopes_disabled

    from pd.models import PDSession

    page = phone
    sign_in(page, "admin@riverbend.example.org", DEMO_PASSWORD)
    page.goto("/pd/sessions/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a PD session")
    assert page.locator("select[name=initiative], select[name=facilitator]").count() == 0
    page.get_by_label("Title").fill("Type-ahead exit tickets")

    school = _pick(page, "Schools", "e")
    expect(page.get_by_role("checkbox", name=school)).to_be_checked()
    expect(page.locator("[data-roster-list] li").first).to_be_attached()  # roster reloaded
    axe_check(page)

    box = page.get_by_role("combobox", name="Facilitator")
    box.focus()
    page.keyboard.type("a")
    expect(page.locator(f"#{box.get_attribute('aria-controls')}")).to_be_visible()
    axe_check(page)  # with the listbox open
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")

    page.get_by_role("button", name="Log session").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Type-ahead exit tickets")
    with scopes_disabled():
        session = PDSession.objects.get(title="Type-ahead exit tickets")
        assert school in [s.name for s in session.schools.all()]
        assert session.facilitator_user_id or session.facilitator_staff_id
    axe_check(page)
