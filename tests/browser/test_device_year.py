"""The handout station driven with the keyboard alone, as a USB scanner does (it types and
presses Enter), and the accessibility of the device year's pages."""

import time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from equity.inventory.models import Assignment
from tests.browser.conftest import TIMEOUT_MS, sign_in
from tests.conftest import PASSWORD
from tests.factories import (
    DeviceAgreementFactory,
    DeviceFactory,
    PriceListEntryFactory,
    StationEventFactory,
    StudentFactory,
    open_assignment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAIRS = 20


@pytest.fixture
def handout(cedar):
    event = StationEventFactory(school=cedar, kind="handout", name="Grade 6 handout", grades=[6])
    for i in range(PAIRS):
        StudentFactory(school=cedar, grade=6, local_id=f"6{i:05d}", homeroom="6A")
        DeviceFactory(school=cedar, asset_tag=f"CB-6{i:04d}")
    return event


def test_twenty_pairs_are_handed_out_with_the_keyboard_alone(
    page, axe_check, row_locks, tech, handout
):
    sign_in(page, tech.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(handout.get_absolute_url())
    expect(page.get_by_text(f"0 of {PAIRS} students have a device")).to_be_visible()
    student = page.get_by_label("Student ID")
    expect(student).to_be_focused()
    page.evaluate("window.stationMarker = 'no reload'")

    # A wrong pair first: refused in place, with the reason, and nothing written.
    page.keyboard.type("600000")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Asset tag")).to_be_focused()
    page.keyboard.type("NOT-HERE")
    page.keyboard.press("Enter")
    flash = page.locator("#station-flash")
    expect(flash).to_contain_text("Refused, nothing changed.")
    expect(flash).to_contain_text("No device with asset tag NOT-HERE at this school.")
    expect(page.get_by_label("Asset tag")).to_be_focused()
    assert not Assignment.objects.exists()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_label("Student ID")).to_be_focused()

    log = page.locator("#desk-log li")
    for i in range(PAIRS):
        page.keyboard.press("Control+a")
        page.keyboard.type(f"6{i:05d}")
        page.keyboard.press("Enter")
        page.keyboard.press("Control+a")
        page.keyboard.type(f"CB-6{i:04d}")
        page.keyboard.press("Enter")
        expect(log).to_have_count(i + 1)
        expect(page.get_by_label("Student ID")).to_be_focused()

    expect(page.get_by_text(f"{PAIRS} of {PAIRS} students have a device")).to_be_visible()
    expect(flash).to_contain_text(f"✓ CB-6{PAIRS - 1:04d} → student 6{PAIRS - 1:05d}")
    expect(page.get_by_text("Every student of this day has a device.")).to_be_visible()
    assert page.evaluate("window.stationMarker") == "no reload"
    assert Assignment.objects.filter(handout_event=handout).count() == PAIRS
    axe_check(page)
    # Each pair locked its device's row inside the station's transaction (none wraps it here).
    row_locks.assert_taken("equity.inventory.services:device_check_out")
    row_locks.assert_taken("equity.year.services:handout_scan")


def test_a_collection_scan_closes_the_assignment_and_raises_a_charge(
    page, axe_check, row_locks, tech, cedar
):
    from equity.inventory.models import Device, DeviceStatus
    from equity.year.models import Charge, ChargeStatus

    PriceListEntryFactory(district=cedar.district, kind="screen", amount=Decimal("45.00"))
    good = open_assignment(cedar, grade=7, homeroom="7B")
    broken = open_assignment(cedar, grade=7, homeroom="7B")
    collection = StationEventFactory(school=cedar, kind="collection", name="June collection")
    sign_in(page, tech.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(collection.get_absolute_url())
    expect(page.get_by_text("0 back")).to_be_visible()
    flash = page.locator("#station-flash")

    page.get_by_label("Asset tag").fill(good.device.asset_tag)
    page.get_by_label("Asset tag").press("Enter")
    expect(flash).to_contain_text(
        f"✓ {good.device.asset_tag} ← student {good.student.local_id} (good)"
    )
    page.get_by_label("Condition").select_option(label="Damaged")
    page.get_by_label("Kind of damage").select_option(label="Broken screen")
    page.get_by_label("Note (required when damaged)").fill("Cracked in the corner")
    page.get_by_label("Asset tag").fill(broken.device.asset_tag)
    page.get_by_label("Asset tag").press("Enter")
    expect(flash).to_contain_text(f"✓ {broken.device.asset_tag} ← student")
    expect(flash).to_contain_text("Broken screen: $45 (due)")
    expect(page.get_by_text("Every device of this day is back.")).to_be_visible()
    axe_check(page)

    closed = Assignment.objects.filter(collection_event=collection, checked_in_at__isnull=False)
    assert set(closed.values_list("pk", "condition_on_return")) == {
        (good.pk, "good"),
        (broken.pk, "damaged"),
    }
    statuses = dict(Device.objects.values_list("pk", "status"))
    assert statuses == {
        good.device_id: DeviceStatus.IN_STOCK,
        broken.device_id: DeviceStatus.IN_REPAIR,
    }
    charge = Charge.objects.get()
    assert (charge.student_id, charge.kind, charge.amount, charge.status) == (
        broken.student_id,
        "screen",
        Decimal("45.00"),
        ChargeStatus.DUE,
    )
    row_locks.assert_taken("equity.inventory.services:device_check_in")


@pytest.mark.parametrize(
    "name", ["days", "collection", "agreement", "charges", "rollover", "settings"]
)
def test_the_device_year_pages_pass_the_accessibility_scan(
    page, axe_check, tech, district_admin, cedar, name
):
    assignment = open_assignment(cedar, grade=7, homeroom="7B")
    DeviceAgreementFactory(district=cedar.district)
    collection = StationEventFactory(school=cedar, kind="collection", name="June collection")
    path = {
        "days": reverse("equity:station_events", args=[cedar.pk]),
        "collection": collection.get_absolute_url(),
        "agreement": reverse("equity:assignment_acceptance", args=[assignment.pk]),
        "charges": reverse("equity:charges", args=[cedar.pk]),
        "rollover": reverse("equity:rollover", args=[cedar.district_id]),
        "settings": reverse("equity:year_settings", args=[cedar.district_id]),
    }[name]
    user = district_admin if name in ("rollover", "settings") else tech
    sign_in(page, user.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if name == "collection":
        page.get_by_label("Asset tag").focus()
        page.keyboard.type(assignment.device.asset_tag)
        page.keyboard.press("Enter")
        expect(page.locator("#station-flash")).to_contain_text("✓")
        expect(page.get_by_text("Every device of this day is back.")).to_be_visible()
    axe_check(page)


def test_the_family_accepts_by_link_without_an_account(page, axe_check, row_locks, cedar):
    from equity.year import services as year_services

    DeviceAgreementFactory(district=cedar.district, text="Keep the device dry.")
    assignment = open_assignment(cedar)
    acceptance = year_services.acceptance_for(assignment)
    page.goto(acceptance.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("Keep the device dry.")).to_be_visible()
    axe_check(page)
    page.get_by_label("Parent or guardian").check()
    page.get_by_label("I have read the agreement above and accept it.").check()
    page.get_by_role("button", name="I accept the agreement").click()
    expect(page.get_by_text("Thank you: the agreement (version")).to_be_visible()
    acceptance.refresh_from_db()
    assert acceptance.accepted and acceptance.signer == "family"
    axe_check(page)
    row_locks.assert_taken("equity.year.services:accept_by_link")


def test_a_signature_drawn_at_the_station_is_stored_as_a_png(page, tech, cedar):
    from equity.year.models import Acceptance

    DeviceAgreementFactory(district=cedar.district)
    assignment = open_assignment(cedar)
    sign_in(page, tech.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("equity:assignment_acceptance", args=[assignment.pk]))
    box = page.get_by_role("img", name="Signature box").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 20):
        page.mouse.move(box["x"] + 20 + step * 15, box["y"] + box["height"] / 2 + (step % 3) * 8)
    page.mouse.up()
    page.get_by_role("radio", name="Student").check()
    page.get_by_role("button", name="Save the signature").click()
    expect(page.get_by_text("The signed agreement was saved.")).to_be_visible()
    acceptance = Acceptance.objects.get(assignment=assignment)
    assert acceptance.method == "signed" and bytes(acceptance.signature).startswith(b"\x89PNG")
    page.get_by_role("link", name="Printable copy").click()
    image = page.get_by_role("img", name="Signature drawn at the station")
    expect(image).to_be_visible()
    # Visible is not loaded: wait until the browser has decoded the PNG.
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def _wait_for(page, held, n):
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:  # the route handler runs while Playwright waits
        if len(held) >= n:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"expected {n} held requests, saw {len(held)}")


def test_scans_typed_while_the_last_pair_is_answered_are_not_lost(page, tech, handout):
    """A scanner does not wait: the next pair is typed (even submitted) while the server is
    still answering the last one, and the answer must not wipe it."""
    sign_in(page, tech.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(handout.get_absolute_url())
    held = []

    def hold(route):
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page.route("**/handout/", hold)
    student, tag = page.get_by_label("Student ID"), page.get_by_label("Asset tag")
    expect(student).to_be_focused()
    page.keyboard.type("600000\nCB-60000\n")  # pair 0 leaves; its answer is held back
    _wait_for(page, held, 1)
    page.keyboard.type("600001\nCB-60001\n")  # pair 1 is submitted and queued behind it
    page.keyboard.type("600002\nCB-6")  # pair 2 is half typed
    held[0].continue_()
    log = page.locator("#desk-log li")
    expect(log).to_have_count(1)
    _wait_for(page, held, 2)  # the queued pair 1 left with its own values
    held[1].continue_()
    expect(log).to_have_count(2)
    expect(student).to_have_value("600002")
    expect(tag).to_have_value("CB-6")
    expect(tag).to_be_focused()
    page.keyboard.type("0002\n")
    _wait_for(page, held, 3)
    held[2].continue_()
    expect(log).to_have_count(3)
    expect(student).to_have_value("")
    expect(student).to_be_focused()
    page.unroute("**/handout/")
    pairs = set(
        Assignment.objects.filter(handout_event=handout).values_list(
            "student__local_id", "device__asset_tag"
        )
    )
    assert pairs == {("600000", "CB-60000"), ("600001", "CB-60001"), ("600002", "CB-60002")}


def test_the_rollover_is_checked_then_run_once(page, axe_check, row_locks, district_admin, cedar):
    """The year-end rollover on a live server without a wrapping transaction: one transaction
    writes it all, and the database's one-run-per-year rule refuses a second run."""
    from equity.inventory.models import Student
    from equity.year.models import RolloverRun, school_year_of

    for local_id, grade in (("R6", 6), ("R7", 7), ("R8", 8)):  # Cedar's top grade is 8
        StudentFactory(school=cedar, local_id=local_id, grade=grade)
    leavers = {
        "name": "leavers.csv",
        "mimeType": "text/csv",
        "buffer": b"student_id,reason\nR7,transferred\n",
    }
    sign_in(page, district_admin.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("equity:rollover", args=[cedar.district_id]))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Close the school year")

    page.get_by_label("Leavers (CSV)").set_input_files(files=[leavers])
    page.get_by_role("button", name="Check the rollover").click()
    expect(page.get_by_text("Nothing has changed yet.")).to_be_visible()
    expect(page.get_by_text("2 students leave.")).to_be_visible()
    axe_check(page)
    assert not RolloverRun.objects.exists()
    assert sorted(Student.objects.values_list("local_id", "grade")) == [
        ("R6", 6),
        ("R7", 7),
        ("R8", 8),
    ]

    page.get_by_label("Leavers (CSV)").set_input_files(files=[leavers])
    page.get_by_label("Run it for real").check()
    page.get_by_role("button", name="Check the rollover").click()
    year = school_year_of(timezone.localdate())
    expect(
        page.get_by_text(
            f"The {year} rollover ran: 1 student moved up (0 to the next school), 2 left."
        )
    ).to_be_visible()
    axe_check(page)
    students = Student.objects.order_by("local_id").values_list(
        "local_id", "grade", "active", "leave_reason"
    )
    assert list(students) == [
        ("R6", 7, True, ""),
        ("R7", 7, False, "transferred"),
        ("R8", 8, False, "completed"),
    ]
    assert RolloverRun.objects.get().school_year == year

    page.get_by_label("Run it for real").check()
    page.get_by_role("button", name="Check the rollover").click()
    expect(page.get_by_text(f"Refused: the rollover of {year} has already run.")).to_be_visible()
    assert RolloverRun.objects.count() == 1
    assert Student.objects.get(local_id="R6").grade == 7
    row_locks.assert_all_in_transactions()
