"""Rosters from the SIS in the browser, on a live server without a wrapping transaction
(PostgreSQL in CI): a bundle previewed, the preview applied (one transaction), by keyboard;
the run page's progress on a phone, updated while the run goes on."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from equity.inventory.models import Student
from rostering.models import RosterRun, RosterSource, RunStatus
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.rostering.roster_data import base_roster, bundle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _choose_bundle(page):
    page.get_by_label("OneRoster CSV bundle (.zip)").set_input_files(
        files=[{"name": "roster.zip", "mimeType": "application/zip",
                "buffer": bundle(base_roster())}]
    )  # fmt: skip


def test_a_bundle_is_previewed_then_applied_by_keyboard(
    page, axe_check, district_admin, district, maple, cedar
):
    source = RosterSource.objects.create(
        district=district, kind="oneroster-csv", student_key="identifier"
    )
    sign_in(page, district_admin.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("schools:district_settings", args=[district.pk]))
    page.get_by_role("link", name="rosters from the SIS").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Rosters from the student information system"
    )
    axe_check(page)
    page.get_by_role("link", name="OneRoster CSV bundle").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("OneRoster CSV bundle")
    axe_check(page)

    _choose_bundle(page)
    page.get_by_role("button", name="Preview").focus()
    page.keyboard.press("Enter")
    status = page.get_by_role("status")
    expect(status).to_contain_text("Preview ready. Nothing has been written.")
    found = page.get_by_role("table", name="What the run found")
    expect(found.get_by_role("row", name="New students")).to_contain_text("5")
    expect(page.get_by_role("listitem").filter(has_text="Oak Ridge High")).to_be_visible()
    axe_check(page)
    assert not Student.objects.exists()

    page.get_by_role("button", name="Apply this roster").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("OneRoster CSV bundle")
    expect(page.get_by_text("upload it again")).to_be_visible()
    _choose_bundle(page)
    apply_now = page.get_by_label("Apply it now (uncheck for a preview only)")
    apply_now.focus()
    page.keyboard.press("Space")
    expect(apply_now).to_be_checked()
    page.get_by_role("button", name="Run").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Applied. Written in one transaction.")
    axe_check(page)
    assert Student.objects.count() == 5
    maple.refresh_from_db()
    assert maple.enrollment_from_roster and maple.enrollment == 3
    source.refresh_from_db()
    assert source.nightly

    page.goto(maple.get_absolute_url())
    expect(page.locator("#enrollment-source")).to_contain_text(
        "Counted from the school's active students in the roster"
    )


def test_the_run_page_shows_progress_on_a_phone(phone, axe_check, district_admin, district):
    source = RosterSource.objects.create(district=district, kind="edfi")
    run = RosterRun.objects.create(
        district=district, source=source, trigger="nightly", apply=True,
        status=RunStatus.READING, phase="Reading students and staff: 2,000 records",
        records_read=2000,
    )  # fmt: skip
    sign_in(phone, district_admin.email, PASSWORD)
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    phone.goto(run.get_absolute_url())
    status = phone.get_by_role("status")
    expect(status).to_contain_text("Reading the roster. Reading students and staff")
    expect(phone.get_by_role("progressbar", name="Run progress")).to_be_visible()
    axe_check(phone)
    RosterRun.objects.filter(pk=run.pk).update(
        status=RunStatus.APPLIED,
        phase="",
        counts={"students_created": 12, "schools_matched": 1, "schools_unmatched": []},
    )
    expect(status).to_contain_text("Applied. Written in one transaction.")
    found = phone.get_by_role("table", name="What the run found")
    expect(found.get_by_role("row", name="New students")).to_contain_text("12")
    axe_check(phone)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= phone.viewport_size["width"]
