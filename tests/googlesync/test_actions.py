"""Acting on Google from a device's page: disable a lost device, re-enable a recovered one,
write the asset tag and location back; Google's answer in the device's history, and a
refusal that changes nothing here."""

import pytest
from django.urls import reverse

from equity.inventory import services as inventory
from equity.inventory.models import DeviceEvent, EventKind
from googlesync import actions, services
from googlesync.models import GoogleDevice
from tests.factories import DeviceFactory, DeviceModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(google, connection, district, cedar, tech):
    """A Cedar Chromebook known to Google and matched by the sync."""
    model = DeviceModelFactory(district=district, maker="Acer", name="Spin 512")
    device = DeviceFactory(school=cedar, model=model, asset_tag="CB-77", serial_number="SN-77")
    google.add("SN-77", ou="/Students/Cedar", asset="OLD-77", location="Cart 2")
    services.sync(connection)
    return device


def _google_events(device):
    return list(DeviceEvent.unscoped.filter(device=device, kind=EventKind.GOOGLE).order_by("pk"))


def test_lost_device_is_offered_disable_then_recovered_is_offered_enable(
    google, synced, tech, login
):
    client = login(tech)
    page = client.get(synced.get_absolute_url()).content.decode()
    assert "In Google Admin" in page and "Disable in Google" not in page
    inventory.device_report_missing(device=synced, by=tech, circumstance="other", place="bus")
    page = client.get(synced.get_absolute_url()).content.decode()
    assert "Disable in Google" in page
    response = client.post(reverse("googlesync:device_action", args=[synced.pk, "disable"]))
    assert response.status_code == 302
    device = google.devices["dev-SN-77"]
    assert device["status"] == "DISABLED"
    assert device["notes"] == "Property of Riverbend. Return to any school office."
    (event,) = _google_events(synced)
    assert event.by == tech and "Google now reports it DISABLED" in event.note
    assert GoogleDevice.unscoped.get(device=synced).status == "DISABLED"
    page = client.get(synced.get_absolute_url()).content.decode()
    assert "Google now reports it DISABLED" in page and "Tess Tech" in page

    inventory.device_recover(device=synced, by=tech)
    page = client.get(synced.get_absolute_url()).content.decode()
    assert "Re-enable in Google" in page
    client.post(reverse("googlesync:device_action", args=[synced.pk, "enable"]))
    assert google.devices["dev-SN-77"]["status"] == "ACTIVE"
    assert google.devices["dev-SN-77"]["notes"] == ""
    assert "Google now reports it ACTIVE" in _google_events(synced)[-1].note


def test_google_refusing_leaves_pillarwise_unchanged_and_says_why(google, synced, tech, login):
    inventory.device_report_missing(device=synced, by=tech, stolen=True)
    google.faults = [(404, "batchChangeStatus")]
    client = login(tech)
    response = client.post(
        reverse("googlesync:device_action", args=[synced.pk, "disable"]), follow=True
    )
    text = response.content.decode()
    assert "Google answered 404" in text and "Nothing was changed in Pillarwise" in text
    assert _google_events(synced) == []
    assert GoogleDevice.unscoped.get(device=synced).status == "ACTIVE"


def test_disable_survives_a_quota_answer(google, synced, tech):
    inventory.device_report_missing(device=synced, by=tech, stolen=True)
    google.faults = [(429, "batchChangeStatus")]
    actions.google_disable(device=synced, by=tech)
    assert google.devices["dev-SN-77"]["status"] == "DISABLED"


def test_only_a_missing_device_is_disabled(synced, tech):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="lost or stolen"):
        actions.google_disable(device=synced, by=tech)


def test_asset_tag_and_location_written_back(google, synced, tech, login):
    client = login(tech)
    client.post(
        reverse("googlesync:device_action", args=[synced.pk, "write"]),
        {"google-location": "Room 114"},
    )
    device = google.devices["dev-SN-77"]
    assert (device["annotatedAssetId"], device["annotatedLocation"]) == ("CB-77", "Room 114")
    record = GoogleDevice.unscoped.get(device=synced)
    assert (record.annotated_asset_id, record.annotated_location) == ("CB-77", "Room 114")
    assert "asset ID CB-77, location Room 114" in _google_events(synced)[-1].note


def test_a_principal_reads_the_panel_but_may_not_act(google, synced, principal, login, cedar):
    from schools.models import Role
    from tests.factories import MembershipFactory

    MembershipFactory(user=principal, school=cedar, district=cedar.district, role=Role.PRINCIPAL)
    client = login(principal)
    page = client.get(synced.get_absolute_url()).content.decode()
    assert "In Google Admin" in page and "Write the asset tag" not in page
    response = client.post(reverse("googlesync:device_action", args=[synced.pk, "write"]))
    assert response.status_code == 403
    assert google.calls[-1][1] == "list"  # nothing sent to Google


def test_the_panel_costs_one_query(synced, tech, login, django_assert_num_queries):
    client = login(tech)
    with django_assert_num_queries(8):  # as any device page (tests/equity/inventory)
        page = client.get(synced.get_absolute_url()).content.decode()
    assert "In Google Admin" in page
