"""A coach logs a session with five attendees using only the keyboard."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "pillarwise-demo"


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


def test_logging_a_session_with_five_attendees_by_keyboard(page, demo, axe_check):
    from django_scopes import scopes_disabled

    from pd.models import Attendance, PDSession

    sign_in(page, "coach@riverbend.example.org", DEMO_PASSWORD)
    page.goto("/pd/sessions/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a PD session")
    axe_check(page)

    page.get_by_label("Title").focus()
    page.keyboard.type("Keyboard-only exit tickets")
    # Narrow the roster by typing, then tick the first five shown with Tab and Space.
    page.get_by_label("Filter attendees by name").focus()
    page.keyboard.type("a")
    names = page.locator("[data-roster-list] li:not([hidden]) label")
    expected = [names.nth(i).inner_text() for i in range(5)]
    page.keyboard.press("Tab")  # "Select all shown"
    for _ in range(5):
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
    expect(page.locator("[data-roster-count]")).to_contain_text("5 selected")
    page.get_by_role("button", name="Log session").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Keyboard-only exit tickets")
    expect(page.get_by_text("logged with 5 attendees")).to_be_visible()
    with scopes_disabled():
        session = PDSession.objects.get(title="Keyboard-only exit tickets")
        recorded = sorted(
            Attendance.objects.filter(session=session).values_list("staff__full_name", flat=True)
        )
    assert recorded == sorted(expected)
    axe_check(page)


def test_select_all_shown_ticks_only_the_filtered_names(page, demo):
    sign_in(page, "coach@riverbend.example.org", DEMO_PASSWORD)
    page.goto("/pd/sessions/new/")
    total = page.locator("[data-roster-list] li").count()
    surname = page.locator("[data-roster-list] li label").first.inner_text().split()[-1]
    page.get_by_label("Filter attendees by name").fill(surname)
    shown = page.locator("[data-roster-list] li:not([hidden])").count()
    assert 1 <= shown < total
    page.get_by_label("Select all shown").check()
    expect(page.locator("[data-roster-list] input:checked")).to_have_count(shown)


# The check-in flow on a phone: tests/browser/test_pd_checkin.py.


@pytest.mark.parametrize(
    "page_name", ["list", "calendar", "session", "reports", "leaders", "polls", "poll", "edit"]
)
def test_the_pd_pages_pass_the_accessibility_scan(page, demo, axe_check, page_name):
    from django.urls import reverse
    from django_scopes import scopes_disabled

    from pd.models import PDNeedsPoll, PDSession
    from schools.models import School

    with scopes_disabled():
        maple = School.objects.get(code="MGE")
        session = PDSession.objects.filter(schools=maple).order_by("-date").first()
        poll = PDNeedsPoll.objects.filter(school=maple).first()
    path = {
        "list": reverse("pd:session_list"),
        "calendar": reverse("pd:calendar"),
        "session": reverse("pd:session_detail", args=[session.pk]),
        "edit": reverse("pd:session_edit", args=[session.pk]),
        "reports": reverse("pd:reports"),
        "leaders": reverse("pd:leaders", args=[maple.pk]),
        "polls": reverse("pd:polls", args=[maple.pk]),
        "poll": reverse("pd:poll_results", args=[poll.pk]),
    }[page_name]
    sign_in(page, "coach@riverbend.example.org", DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe_check(page)
