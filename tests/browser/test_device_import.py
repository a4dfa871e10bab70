"""A device list uploaded through the page: problems first (nothing written), then a dry
run (the preview), then the import itself, on a live server with no wrapping transaction:
the write is one transaction with a temporary table of changed rows on PostgreSQL."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from equity.inventory.models import Device, DeviceEvent, EventKind
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import DeviceFactory, DeviceModelFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "asset_tag,serial_number,model,notes\n"
GOOD = HEADER + "RB-1,SN-1,Acer C1,Back from repair\nRB-2,SN-2,Acer C1,\nRB-3,SN-3,Acer C1,\n"
BAD = HEADER + "RB-2,SN-2,Acer C1,\nRB-3,,Acer C1,\n"


def _upload(page, text, *, dry_run):
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "devices.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.get_by_label("Dry run: check only").set_checked(dry_run)
    page.get_by_role("button", name="Check and import").click()


def test_a_device_list_is_checked_previewed_then_imported(page, axe_check, row_locks, tech, cedar):
    model = DeviceModelFactory(district=cedar.district, maker="Acer", name="C1")
    old = DeviceFactory(
        school=cedar, model=model, asset_tag="RB-1", serial_number="SN-1", notes="In repair"
    )
    sign_in(page, tech.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("equity:import_devices", args=[cedar.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Import devices into Cedar Middle")
    axe_check(page)

    _upload(page, BAD, dry_run=False)
    expect(page.get_by_role("alert")).to_contain_text("1 problem found; nothing was imported.")
    problems = page.get_by_role("table", name="1 problem")
    expect(problems.get_by_role("rowheader")).to_have_text(["3"])
    axe_check(page)
    assert list(Device.objects.values_list("asset_tag", flat=True)) == ["RB-1"]

    _upload(page, GOOD, dry_run=True)
    expect(page.get_by_role("status")).to_contain_text(
        "Would import 3 devices (2 created, 1 updated); nothing was written (dry run)."
    )
    assert list(Device.objects.values_list("asset_tag", flat=True)) == ["RB-1"]

    _upload(page, GOOD, dry_run=False)
    expect(page.get_by_role("status")).to_contain_text("Imported 3 devices (2 created, 1 updated)")
    axe_check(page)
    devices = dict(Device.objects.values_list("asset_tag", "school"))
    assert devices == {"RB-1": cedar.pk, "RB-2": cedar.pk, "RB-3": cedar.pk}
    old.refresh_from_db()
    assert old.notes == "Back from repair"  # written through the temporary table
    created = DeviceEvent.objects.filter(kind=EventKind.CREATED, by=tech)
    assert sorted(created.values_list("device__asset_tag", flat=True)) == ["RB-2", "RB-3"]
    row_locks.assert_all_in_transactions()
