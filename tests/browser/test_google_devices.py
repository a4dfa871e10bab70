"""A lost Chromebook disabled in Google and re-enabled once recovered, in a real browser on
the live server, against the fake Directory API on loopback (tests/googlesync): the offer
appears where the device's state calls for it, Google's answer lands in the history, by
keyboard, on a phone, and through axe."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from equity.inventory.models import DeviceEvent, DeviceStatus, EventKind
from googlesync import services
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import DeviceFactory, DeviceModelFactory
from tests.googlesync import conftest as google_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The fake Google on loopback and a connected district (tests/googlesync/conftest.py).
google = google_fixtures.google
connection = google_fixtures.connection


@pytest.fixture
def synced(google, connection, district, cedar, tech):
    model = DeviceModelFactory(district=district, maker="Acer", name="Spin 512")
    device = DeviceFactory(school=cedar, model=model, asset_tag="CB-4242", serial_number="SN-4242")
    google.add("SN-4242", ou="/Students/Cedar", asset="CB-4242")
    services.sync(connection)
    return device


def test_lost_disable_recover_enable_with_history(page, axe_check, google, synced, tech):
    sign_in(page, tech.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("equity:device_detail", args=[synced.pk]))
    panel = page.get_by_role("region", name="In Google Admin")
    expect(panel).to_contain_text("Active")
    expect(panel.get_by_role("button", name="Disable in Google")).to_have_count(0)

    # Report it lost; the page now offers to disable it in Google.
    page.get_by_text("Report lost", exact=True).first.click()
    page.locator("#id_lost-circumstance").select_option(label="Left on public transit")
    page.locator("#id_lost-place").fill("Route 9 bus")
    page.get_by_role("button", name="Report lost").click()
    disable = page.get_by_role("button", name="Disable in Google")
    expect(disable).to_be_visible()
    axe_check(page)
    disable.focus()
    page.keyboard.press("Enter")  # by keyboard
    expect(page.get_by_text("CB-4242 was disabled in Google.")).to_be_visible()
    expect(page.locator("#google-status")).to_have_text("Disabled")
    history = page.get_by_role("table", name="Everything that happened to CB-4242")
    expect(history).to_contain_text("Google now reports it DISABLED")
    expect(history).to_contain_text("Tess Tech")
    assert google.devices["dev-SN-4242"]["status"] == "DISABLED"

    # Recovered: the page offers to re-enable it.
    page.get_by_text("Recovered", exact=True).first.click()
    page.get_by_role("button", name="Mark recovered").click()
    enable = page.get_by_role("button", name="Re-enable in Google")
    expect(enable).to_be_visible()
    enable.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("CB-4242 was re-enabled in Google.")).to_be_visible()
    expect(page.locator("#google-status")).to_have_text("Active")
    expect(history).to_contain_text("Google now reports it ACTIVE")
    axe_check(page)
    assert google.devices["dev-SN-4242"]["status"] == "ACTIVE"
    kinds = list(
        DeviceEvent.unscoped.filter(device=synced).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == [EventKind.LOST, EventKind.GOOGLE, EventKind.RECOVERED, EventKind.GOOGLE]
    synced.refresh_from_db()
    assert synced.status == DeviceStatus.IN_STOCK


def test_google_saying_no_changes_nothing_on_a_phone(phone, axe_check, google, synced, tech):
    from equity.inventory import services as inventory

    inventory.device_report_missing(device=synced, by=tech, stolen=True)
    google.faults = [(404, "batchChangeStatus")]
    sign_in(phone, tech.email, PASSWORD)
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    phone.goto(reverse("equity:device_detail", args=[synced.pk]))
    phone.get_by_role("button", name="Disable in Google").click()
    expect(phone.get_by_text("Nothing was changed in Pillarwise")).to_be_visible()
    expect(phone.locator("#google-status")).to_have_text("Active")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    axe_check(phone)
    assert not DeviceEvent.unscoped.filter(device=synced, kind=EventKind.GOOGLE).exists()


def test_district_pages_on_a_phone(phone, axe_check, google, connection, district, district_admin):
    google.add("SN-1", ou="/Staff")
    services.sync(connection)
    sign_in(phone, district_admin.email, PASSWORD)
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    for name in ("googlesync:connection", "googlesync:org_units", "googlesync:reports"):
        phone.goto(reverse(name, args=[district.pk]))
        expect(phone.get_by_role("heading", level=1)).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        axe_check(phone)
