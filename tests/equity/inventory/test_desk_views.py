"""The check-out and check-in desks: htmx partials for speed, plain POST without JavaScript,
every refusal on the field to fix, with the focus on it."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from equity.inventory import services
from equity.inventory.models import Assignment, Device, DeviceStatus, EventKind
from tests.factories import DeviceFactory, DeviceModelFactory, StudentFactory

HTMX = {"HX-Request": "true"}


def checkout_url(school):
    return reverse("equity:checkout", args=[school.pk])


def checkin_url(school):
    return reverse("equity:checkin", args=[school.pk])


def focused(content: str) -> list[str]:
    """Names of the inputs and selects that carry autofocus."""
    tags = re.findall(r"<(?:input|select)\b[^>]*>", content)
    return [re.search(r'name="([^"]+)"', t).group(1) for t in tags if " autofocus" in t]


@pytest.fixture
def device(cedar):
    return DeviceFactory(school=cedar, asset_tag="CB-01234")


@pytest.fixture
def student(cedar):
    return StudentFactory(school=cedar, local_id="100234")


def test_the_desk_opens_with_the_focus_on_the_asset_tag(login, tech, cedar):
    content = login(tech).get(checkout_url(cedar)).content.decode()
    assert focused(content) == ["asset_tag"]
    assert 'data-desk-next="id_student_id"' in content
    assert 'hx-post="' in content and 'role="status" aria-live="polite"' in content
    assert "js/desk.js" in content


def test_htmx_check_out_answers_a_log_line_and_a_fresh_form(login, tech, cedar, device, student):
    response = login(tech).post(
        checkout_url(cedar), {"asset_tag": "cb-01234", "student_id": "100234"}, headers=HTMX
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert '<li class="list-group-item">✓ CB-01234 → student 100234</li>' in content
    assert 'id="desk-fields" hx-swap-oob="true"' in content
    assert 'value="cb-01234"' not in content  # the fields come back empty
    assert focused(content) == ["asset_tag"]
    assert "<h1" not in content
    assignment = Assignment.objects.get(device=device)
    assert assignment.student == student and assignment.checked_out_by == tech
    device.refresh_from_db()
    assert device.status == DeviceStatus.ASSIGNED


def test_without_javascript_check_out_posts_and_redirects(login, tech, cedar, device, student):
    response = login(tech).post(
        checkout_url(cedar), {"asset_tag": "CB-01234", "student_id": "100234"}, follow=True
    )
    assert response.redirect_chain == [(checkout_url(cedar), 302)]
    assert b"\xe2\x9c\x93 CB-01234 \xe2\x86\x92 student 100234" in response.content
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.ASSIGNED


def refused(client, url, data, field):
    """Post through htmx; the form comes back in place of the fields, focus on ``field``."""
    response = client.post(url, data, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#desk-fields"
    assert response["HX-Reswap"] == "outerHTML"
    content = response.content.decode()
    assert focused(content) == [field]
    assert f'aria-describedby="id_{field}_error"' in content
    assert f'id="id_{field}_error" class="invalid-feedback"' in content
    return response.context["form"].errors[field]


def test_check_out_refusals_are_tied_to_the_field_to_fix(
    login, tech, cedar, maple, device, student
):
    client = login(tech)
    url = checkout_url(cedar)
    DeviceFactory(school=maple, asset_tag="CB-MAPLE")
    assert refused(client, url, {"asset_tag": "NOPE-1", "student_id": "100234"}, "asset_tag") == [
        "No device with asset tag NOPE-1 at this school."
    ]
    # Another school's device is simply unknown here.
    assert refused(client, url, {"asset_tag": "CB-MAPLE", "student_id": "100234"}, "asset_tag") == [
        "No device with asset tag CB-MAPLE at this school."
    ]
    assert refused(client, url, {"asset_tag": "CB-01234", "student_id": "999"}, "student_id") == [
        "No student with ID 999 at this school."
    ]

    services.device_check_out(device=device, student=student, by=tech)
    assert refused(client, url, {"asset_tag": "CB-01234", "student_id": "100234"}, "asset_tag") == [
        "CB-01234 is already checked out."
    ]

    second = DeviceFactory(school=cedar, asset_tag="CB-02000")
    assert refused(
        client, url, {"asset_tag": second.asset_tag, "student_id": "100234"}, "student_id"
    ) == ["Student 100234 already has a device checked out."]

    old = DeviceModelFactory(
        district=cedar.district, auto_update_expiration=timezone.localdate() - timedelta(days=40)
    )
    DeviceFactory(school=cedar, model=old, asset_tag="CB-OLD")
    (message,) = refused(client, url, {"asset_tag": "CB-OLD", "student_id": "100234"}, "asset_tag")
    assert message.startswith("CB-OLD is past its auto-update expiration")
    assert Assignment.objects.count() == 1


def test_a_student_of_another_school_is_refused_on_the_student_field(
    login, district_admin, cedar, maple, device
):
    StudentFactory(school=maple, local_id="555000")
    errors = refused(
        login(district_admin),
        checkout_url(cedar),
        {"asset_tag": "CB-01234", "student_id": "555000"},
        "student_id",
    )
    assert errors == ["Student 555000 is enrolled at Maple Elementary, not at this school."]
    assert not Assignment.objects.exists()


def test_without_javascript_a_refusal_renders_the_page_with_the_error(login, tech, cedar, device):
    response = login(tech).post(checkout_url(cedar), {"asset_tag": "CB-01234", "student_id": ""})
    assert response.status_code == 200
    content = response.content.decode()
    assert "<h1" in content and "This field is required." in content
    assert focused(content) == ["student_id"]
    assert 'value="CB-01234"' in content  # what was typed stays


def test_htmx_check_in_and_a_damaged_return(login, tech, cedar, device, student):
    services.device_check_out(device=device, student=student, by=tech)
    client = login(tech)
    response = client.post(checkin_url(cedar), {"asset_tag": "CB-01234"}, headers=HTMX)
    assert "✓ CB-01234 ← student 100234 (good)" in response.content.decode()
    assert focused(response.content.decode()) == ["asset_tag"]
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK
    assert Assignment.objects.get().condition_on_return == "good"

    services.device_check_out(device=device, student=student, by=tech)
    response = client.post(
        checkin_url(cedar), {"asset_tag": "CB-01234", "condition": "damaged"}, headers=HTMX
    )
    assert "✓ CB-01234 ← student 100234, damaged: sent to repair" in response.content.decode()
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_REPAIR
    assert device.events.order_by("-pk").first().kind == EventKind.REPAIR_SENT


def test_checking_in_a_device_that_is_not_out_is_refused(login, tech, cedar, device):
    errors = refused(login(tech), checkin_url(cedar), {"asset_tag": "CB-01234"}, "asset_tag")
    assert errors == ["CB-01234 is not checked out."]


def test_without_javascript_check_in_posts_and_redirects(login, tech, cedar, device, student):
    services.device_check_out(device=device, student=student, by=tech)
    response = login(tech).post(
        checkin_url(cedar), {"asset_tag": "CB-01234", "condition": "worn"}, follow=True
    )
    assert response.redirect_chain == [(checkin_url(cedar), 302)]
    assert "✓ CB-01234 ← student 100234 (worn but working)" in response.content.decode()


@pytest.mark.parametrize("name", ["equity:checkout", "equity:checkin"])
def test_principals_and_coaches_do_not_use_the_desks(login, principal, coach, maple, name):
    device = DeviceFactory(school=maple, asset_tag="CB-M")
    StudentFactory(school=maple, local_id="1")
    url = reverse(name, args=[maple.pk])
    for user in (principal, coach):
        client = login(user)
        assert client.get(url).status_code == 403
        data = {"asset_tag": "CB-M", "student_id": "1"}
        assert client.post(url, data, headers=HTMX).status_code == 403
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_STOCK
