"""The speed desks driven with the keyboard alone, in a real browser, and the accessibility
of the tech staff pages."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from equity.inventory.models import Assignment, Device, DeviceEvent, DeviceStatus, EventKind
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import DeviceFactory, StudentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(tech, cedar):
    device = DeviceFactory(school=cedar, asset_tag="CB-01234")
    StudentFactory(school=cedar, local_id="100234", grade=7)
    return device


def test_a_device_goes_out_and_back_with_the_keyboard_alone(
    page, axe_check, row_locks, tech, cedar, desk
):
    sign_in(page, tech.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("equity:checkout", args=[cedar.pk]))
    tag = page.get_by_label("Asset tag")
    student = page.get_by_label("Student ID")
    expect(tag).to_be_focused()
    # Survives only if no action reloads the page.
    page.evaluate("window.deskMarker = 'still here'")

    # An unknown tag: the error is on the tag, and the focus goes back to it.
    page.keyboard.type("NOPE-1")
    page.keyboard.press("Enter")
    expect(student).to_be_focused()
    page.keyboard.type("100234")
    page.keyboard.press("Enter")
    expect(page.get_by_text("No device with asset tag NOPE-1 at this school.")).to_be_visible()
    expect(page.get_by_label("Asset tag")).to_be_focused()

    # The real thing: tag, Enter, student ID, Enter.
    page.keyboard.type("CB-01234")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Student ID")).to_be_focused()
    page.keyboard.type("100234")
    page.keyboard.press("Enter")
    log = page.get_by_role("status").locator("#desk-log")
    expect(log.get_by_text("✓ CB-01234 → student 100234")).to_be_visible()
    expect(page.get_by_label("Asset tag")).to_be_focused()
    expect(page.get_by_label("Asset tag")).to_have_value("")
    expect(page.get_by_label("Student ID")).to_have_value("")
    assert page.evaluate("window.deskMarker") == "still here"
    assert Device.objects.get(pk=desk.pk).status == DeviceStatus.ASSIGNED
    axe_check(page)

    # The check-in desk: tag, Enter.
    page.goto(reverse("equity:checkin", args=[cedar.pk]))
    expect(page.get_by_label("Asset tag")).to_be_focused()
    page.evaluate("window.deskMarker = 'check-in'")
    page.keyboard.type("CB-01234")
    page.keyboard.press("Enter")
    expect(
        page.locator("#desk-log").get_by_text("✓ CB-01234 ← student 100234 (good)")
    ).to_be_visible()
    expect(page.get_by_label("Asset tag")).to_be_focused()
    assert page.evaluate("window.deskMarker") == "check-in"
    axe_check(page)

    assert Device.objects.get(pk=desk.pk).status == DeviceStatus.IN_STOCK
    kinds = list(
        DeviceEvent.objects.filter(device=desk).order_by("at", "pk").values_list("kind", flat=True)
    )
    assert kinds == [EventKind.CHECK_OUT, EventKind.CHECK_IN]
    page.goto(reverse("equity:device_detail", args=[desk.pk]))
    history = page.get_by_role("table", name="Everything that happened to CB-01234")
    expect(history.get_by_role("rowheader", name="Checked out")).to_be_visible()
    expect(history.get_by_role("rowheader", name="Checked in")).to_be_visible()
    axe_check(page)
    assignment = Assignment.objects.get(device=desk)
    assert assignment.student.local_id == "100234" and assignment.checked_in_by == tech
    # The live server took each device's row lock inside a transaction (no test wraps it).
    row_locks.assert_taken("equity.inventory.services:device_check_out")
    row_locks.assert_taken("equity.inventory.services:device_check_in")


def test_an_audit_scans_tag_after_tag_without_waiting(page, tech, cedar):
    for tag in ("AU-1", "AU-2", "AU-3"):
        DeviceFactory(school=cedar, asset_tag=tag)
    sign_in(page, tech.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("equity:audit", args=[cedar.pk]))
    expect(page.get_by_text("Seen 0 of 3")).to_be_visible()
    tag = page.get_by_label("Asset tag")
    expect(tag).to_be_focused()
    # A scanner does not wait for the answer: the field empties as each scan is sent.
    for scanned in ["AU-1", "AU-2", *["AU-2"] * 19]:
        page.keyboard.type(scanned)
        page.keyboard.press("Enter")
    expect(page.get_by_text("Seen 2 of 3")).to_be_visible()
    log = page.locator("#desk-log li")
    expect(log.first).to_have_text("AU-2 was already seen in this audit.")
    expect(log).to_have_count(20)  # the log keeps the last 20 lines
    expect(tag).to_have_value("")
    expect(tag).to_be_focused()
    seen = DeviceEvent.objects.filter(kind=EventKind.AUDIT_SEEN)
    assert sorted(seen.values_list("device__asset_tag", flat=True)) == ["AU-1", "AU-2"]
    page.get_by_role("link", name="Show the devices not seen yet").click()
    missing = page.get_by_role("table", name=re.compile("1 device not seen"))
    expect(missing.get_by_role("rowheader")).to_have_text(["AU-3"])


def test_select_all_ticks_every_device_on_the_page_and_the_bulk_action_runs(
    page, row_locks, tech, cedar
):
    DeviceFactory.create_batch(3, school=cedar)
    sign_in(page, tech.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("equity:inventory"))
    page.get_by_label("Select all devices on this page").check()
    boxes = page.locator('input[name="bulk-ids"]')
    expect(boxes).to_have_count(3)
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    page.get_by_label("Action").select_option("retire")
    page.get_by_label("Note (for retiring)").fill("End of life")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("3 devices retired.")).to_be_visible()
    assert set(Device.objects.values_list("status", flat=True)) == {DeviceStatus.RETIRED}
    row_locks.assert_taken("equity.inventory.services:devices_retire")


@pytest.mark.parametrize("name", ["inventory", "device", "checkout", "coverage", "district"])
def test_the_tech_staff_pages_pass_the_accessibility_scan(page, axe_check, tech, cedar, desk, name):
    path = {
        "inventory": reverse("equity:inventory"),
        "device": reverse("equity:device_detail", args=[desk.pk]),
        "checkout": reverse("equity:checkout", args=[cedar.pk]),
        "coverage": reverse("equity:coverage", args=[cedar.pk]),
        "district": reverse("equity:district_coverage", args=[cedar.district_id]),
    }[name]
    sign_in(page, tech.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if name == "checkout":  # scan once, so the log and an error are on the page too
        page.keyboard.type("CB-01234")
        page.keyboard.press("Enter")
        page.keyboard.type("100234")
        page.keyboard.press("Enter")
        expect(page.locator("#desk-log li")).to_have_count(1)
        expect(page.get_by_label("Asset tag")).to_be_focused()
        expect(page.locator("form[data-desk].htmx-request")).to_have_count(0)
        page.keyboard.type("CB-01234")
        page.keyboard.press("Enter")
        page.keyboard.type("100234")
        page.keyboard.press("Enter")
        expect(page.get_by_text("CB-01234 is already checked out.")).to_be_visible()
    if name in ("coverage", "district"):
        # charts.js drew every chart from its JSON (Chart.js keeps one instance per canvas).
        page.wait_for_function(
            "[...document.querySelectorAll('canvas')].every((c) => window.Chart.getChart(c))"
        )
    axe_check(page)
