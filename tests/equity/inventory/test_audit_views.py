"""Physical audit mode: scan tags, count what was seen, list what was not."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from equity.inventory import services
from equity.inventory.models import DeviceEvent, DeviceStatus, EventKind
from tests.factories import DeviceFactory

HTMX = {"HX-Request": "true"}


def url(school):
    return reverse("equity:audit", args=[school.pk])


@pytest.fixture
def devices(cedar):
    """Three devices an audit looks for, and two it does not (lost, retired)."""
    return {
        "stock": DeviceFactory(school=cedar, asset_tag="CB-1"),
        "assigned": DeviceFactory(school=cedar, asset_tag="CB-2", status=DeviceStatus.ASSIGNED),
        "repair": DeviceFactory(school=cedar, asset_tag="CB-3", status=DeviceStatus.IN_REPAIR),
        "lost": DeviceFactory(school=cedar, asset_tag="CB-4", status=DeviceStatus.LOST),
        "retired": DeviceFactory(school=cedar, asset_tag="CB-5", status=DeviceStatus.RETIRED),
    }


def missing(client, school) -> list[str]:
    response = client.get(url(school), {"show": "missing"})
    return [d.asset_tag for d in response.context["missing"]]


def test_an_audit_counts_what_was_seen_and_lists_what_was_not(login, tech, cedar, devices):
    client = login(tech)
    first = client.get(url(cedar))
    assert first.context["counts"] == {"total": 3, "seen": 0}
    assert first.context["missing"] is None  # listed on demand only
    assert b"No audit is running" in first.content

    response = client.post(url(cedar), {"asset_tag": "cb-1"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["✓ CB-1 seen"]
    assert response.context["counts"] == {"total": 3, "seen": 1}
    assert b"Seen 1 of 3" in response.content
    assert missing(client, cedar) == ["CB-2", "CB-3"]
    event = DeviceEvent.objects.get(kind=EventKind.AUDIT_SEEN)
    assert event.device == devices["stock"] and event.by == tech


def test_a_new_audit_forgets_what_earlier_audits_saw(login, tech, cedar, devices):
    services.device_record_seen(
        device=devices["stock"], by=tech, at=timezone.now() - timedelta(days=1)
    )
    client = login(tech)
    response = client.post(url(cedar), {"start": "1"}, follow=True)
    assert b"A new audit started" in response.content
    assert response.context["counts"] == {"total": 3, "seen": 0}
    assert missing(client, cedar) == ["CB-1", "CB-2", "CB-3"]
    client.post(url(cedar), {"asset_tag": "CB-2"})
    assert missing(client, cedar) == ["CB-1", "CB-3"]
    client.post(url(cedar), {"start": "1"})
    assert missing(client, cedar) == ["CB-1", "CB-2", "CB-3"]


def test_a_tag_of_another_school_writes_nothing(login, tech, cedar, maple, devices):
    DeviceFactory(school=maple, asset_tag="MAPLE-1")
    client = login(tech)
    for tag in ("MAPLE-1", "NO-SUCH-TAG"):
        response = client.post(url(cedar), {"asset_tag": tag}, follow=True)
        messages = [str(m) for m in response.context["messages"]]
        assert messages == [f"{tag} is not at this school; nothing was recorded."]
    assert not DeviceEvent.objects.exists()


def test_a_second_scan_of_the_same_device_is_noted_once(login, tech, cedar, devices):
    client = login(tech)
    client.post(url(cedar), {"asset_tag": "CB-1"}, follow=True)
    response = client.post(url(cedar), {"asset_tag": "CB-1"}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["CB-1 was already seen in this audit."]
    assert DeviceEvent.objects.filter(kind=EventKind.AUDIT_SEEN).count() == 1


def test_a_lost_device_found_in_the_building_is_flagged(login, tech, cedar, devices):
    response = login(tech).post(url(cedar), {"asset_tag": "CB-4"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "✓ CB-4 seen, but it is reported lost."
    ]


def test_htmx_scans_answer_a_log_line_and_the_new_counts(login, tech, cedar, devices):
    client = login(tech)
    response = client.post(url(cedar), {"asset_tag": "CB-3"}, headers=HTMX)
    content = response.content.decode()
    assert '<li class="list-group-item">✓ CB-3 seen</li>' in content
    assert 'id="audit-counts" hx-swap-oob="true"' in content
    assert "Seen 1 of 3" in content and "<h1" not in content
    refused = client.post(url(cedar), {"asset_tag": "ZZZ"}, headers=HTMX).content.decode()
    assert "list-group-item-danger" in refused and "ZZZ is not at this school" in refused


@pytest.mark.parametrize("who", ["principal", "coach"])
def test_only_tech_staff_and_admins_audit(login, request, maple, who):
    DeviceFactory(school=maple, asset_tag="M-1")
    client = login(request.getfixturevalue(who))
    assert client.get(url(maple)).status_code == 403
    assert client.post(url(maple), {"asset_tag": "M-1"}).status_code == 403
    assert not DeviceEvent.objects.exists()


def test_the_district_admin_audits_any_school(login, district_admin, maple):
    DeviceFactory(school=maple, asset_tag="M-1")
    client = login(district_admin)
    client.post(url(maple), {"asset_tag": "M-1"})
    assert DeviceEvent.objects.filter(kind=EventKind.AUDIT_SEEN).count() == 1


def test_a_long_missing_list_shows_its_first_devices_and_the_full_count(
    login, tech, cedar, devices, monkeypatch
):
    monkeypatch.setattr("equity.inventory.views.MISSING_LISTED", 2)
    response = login(tech).get(url(cedar), {"show": "missing"})
    assert [d.asset_tag for d in response.context["missing"]] == ["CB-1", "CB-2"]
    assert b"3 devices not seen; the first 2 by asset tag are listed" in response.content
