"""The device page (facts, holder, whole history), its actions, and adding a device."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from equity.inventory import services
from equity.inventory.models import Device, DeviceEvent, DeviceStatus, EventKind
from tests.factories import DeviceFactory, DeviceModelFactory, StudentFactory


def detail(device):
    return reverse("equity:device_detail", args=[device.pk])


def action_url(device, action):
    return reverse("equity:device_action", args=[device.pk, action])


@pytest.fixture
def device(cedar):
    return DeviceFactory(school=cedar, asset_tag="CB-00077")


def test_the_page_shows_the_holder_and_the_whole_history_newest_first(login, tech, cedar, device):
    student = StudentFactory(school=cedar, local_id="100234", grade=7)
    start = timezone.now() - timedelta(days=30)
    services.device_check_out(device=device, student=student, by=tech, at=start)
    services.device_check_in(device=device, by=tech, at=start + timedelta(days=1))
    services.device_check_out(device=device, student=student, by=tech, at=start + timedelta(2))
    response = login(tech).get(detail(device))
    assert response.status_code == 200
    kinds = [e.kind for e in response.context["events"]]
    assert kinds == [EventKind.CHECK_OUT, EventKind.CHECK_IN, EventKind.CHECK_OUT]
    content = response.content.decode()
    assert "Student 100234, grade 7" in content
    assert content.count("Tess Tech") == 3  # who did each step
    assert "Check-out desk" in content


@pytest.mark.parametrize(
    ("days", "warning"),
    [(-10, "no longer receives updates"), (200, "within the next 12 months"), (800, None)],
)
def test_the_page_warns_about_auto_update_expiration(login, tech, cedar, days, warning):
    model = DeviceModelFactory(
        district=cedar.district,
        auto_update_expiration=timezone.localdate() + timedelta(days=days),
    )
    content = login(tech).get(detail(DeviceFactory(school=cedar, model=model))).content.decode()
    for text in ("no longer receives updates", "within the next 12 months"):
        assert (text in content) == (text == warning)


S, K = DeviceStatus, EventKind


@pytest.mark.parametrize(
    ("action", "start", "data", "end", "kind"),
    [
        (
            "lost",
            S.IN_STOCK,
            {"lost-circumstance": "left_on_transit", "lost-place": "Bus 12", "lost-note": "Seat"},
            S.LOST,
            K.LOST,
        ),
        ("stolen", S.IN_STOCK, {"stolen-place": "Gym"}, S.STOLEN, K.STOLEN),
        ("repair", S.IN_STOCK, {"repair-note": "Hinge"}, S.IN_REPAIR, K.REPAIR_SENT),
        ("repaired", S.IN_REPAIR, {}, S.IN_STOCK, K.REPAIR_RETURNED),
        ("recovered", S.LOST, {}, S.IN_STOCK, K.RECOVERED),
        ("retire", S.IN_STOCK, {"retire-note": "EOL"}, S.RETIRED, K.RETIRED),
    ],
)
def test_each_action_records_what_happened(login, tech, cedar, action, start, data, end, kind):
    device = DeviceFactory(school=cedar, status=start)
    response = login(tech).post(action_url(device, action), data, follow=True)
    assert response.redirect_chain == [(detail(device), 302)]
    device.refresh_from_db()
    assert device.status == end
    event = DeviceEvent.objects.get(device=device)
    assert event.kind == kind and event.by == tech
    assert [str(m) for m in response.context["messages"]][0].startswith(device.asset_tag)
    if action == "lost":
        assert (event.circumstance, event.place, event.note) == (
            "left_on_transit",
            "Bus 12",
            "Seat",
        )
    if action == "stolen":
        assert (event.circumstance, event.place) == ("stolen", "Gym")


def test_the_page_offers_only_the_actions_the_status_allows(login, tech, cedar):
    lost = DeviceFactory(school=cedar, status=DeviceStatus.LOST)
    offered = [key for key, _a, _f in login(tech).get(detail(lost)).context["action_forms"]]
    assert offered == ["recovered", "retire"]
    stock = DeviceFactory(school=cedar)
    offered = [key for key, _a, _f in login(tech).get(detail(stock)).context["action_forms"]]
    assert offered == ["lost", "stolen", "repair", "retire"]


def test_a_missing_circumstance_is_an_error_on_its_field(login, tech, device):
    response = login(tech).post(action_url(device, "lost"), {"lost-place": "Bus"})
    assert response.status_code == 200
    (form,) = [f for key, _a, f in response.context["action_forms"] if key == "lost"]
    assert list(form.errors) == ["circumstance"]
    content = response.content.decode()
    assert 'aria-describedby="id_lost-circumstance_error"' in content
    assert 'id="id_lost-circumstance_error" class="invalid-feedback"' in content
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK


def test_a_refusal_from_the_service_is_shown_on_the_form(login, tech, device):
    response = login(tech).post(action_url(device, "recovered"), {"recovered-note": "x"})
    assert response.status_code == 200
    (form,) = [f for key, _a, f in response.context["action_forms"] if key == "recovered"]
    assert form.non_field_errors() == ["CB-00077 was not missing."]
    assert b"CB-00077 was not missing." in response.content
    assert not DeviceEvent.objects.exists()


def test_an_unknown_action_is_not_found(login, tech, device):
    assert login(tech).post(action_url(device, "explode")).status_code == 404
    assert login(tech).get(action_url(device, "lost")).status_code == 405


def test_another_schools_device_is_not_found(login, tech, maple):
    theirs = DeviceFactory(school=maple)
    client = login(tech)
    assert client.get(detail(theirs)).status_code == 404
    assert (
        client.post(action_url(theirs, "lost"), {"lost-circumstance": "other"}).status_code == 404
    )
    assert Device.objects.get(pk=theirs.pk).status == DeviceStatus.IN_STOCK


def test_a_principal_reads_the_device_but_cannot_act(login, principal, maple):
    device = DeviceFactory(school=maple)
    client = login(principal)
    response = client.get(detail(device))
    assert response.status_code == 200
    assert b"Record what happened" not in response.content
    data = {"retire-note": "no"}
    assert client.post(action_url(device, "retire"), data).status_code == 403
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_STOCK


def test_a_coach_does_not_see_devices(login, coach, maple):
    assert login(coach).get(detail(DeviceFactory(school=maple))).status_code == 403


@pytest.mark.parametrize("size", [2, 30])
def test_the_device_page_costs_the_same_queries_whatever_its_history(
    size, login, tech, cedar, device, django_assert_num_queries
):
    # Session, user, two scope queries, the device (with model and school), the holder,
    # the history (with who, where and the student), and what each panel of an app above
    # equity asks (googlesync: Google's record of the device, one query).
    students = StudentFactory.create_batch(2, school=cedar)
    at = timezone.now() - timedelta(days=size)
    for i in range(size // 2):
        services.device_check_out(device=device, student=students[i % 2], by=tech, at=at)
        services.device_check_in(device=device, by=tech, at=at + timedelta(hours=1))
        at += timedelta(days=1)
    client = login(tech)
    with django_assert_num_queries(8):
        response = client.get(detail(device))
    assert len(response.context["events"]) == size


# --- adding a device ----------------------------------------------------------------


def add_url(school):
    return reverse("equity:device_add", args=[school.pk])


@pytest.fixture
def model(district):
    return DeviceModelFactory(district=district, maker="Acme", name="Chromebook 14")


def test_the_tech_staff_adds_a_device(login, tech, cedar, model):
    response = login(tech).post(
        add_url(cedar),
        {
            "asset_tag": " CB-90001 ",
            "serial_number": "SN-1",
            "model": model.pk,
            "purchase_date": "2026-08-01",
            "funding_source": "title_i",
            "notes": "Donor batch",
        },
    )
    device = Device.objects.get(asset_tag="CB-90001")
    assert response.status_code == 302 and response["Location"] == detail(device)
    assert (device.school, device.district, device.maker) == (cedar, cedar.district, "Acme")
    assert device.funding_source == "title_i" and str(device.purchase_date) == "2026-08-01"
    assert DeviceEvent.objects.get(device=device).kind == EventKind.CREATED


def test_a_tag_or_serial_used_at_another_school_is_an_error_on_its_field(
    login, tech, cedar, maple, model
):
    DeviceFactory(school=maple, model=model, asset_tag="CB-TAKEN", serial_number="SN-TAKEN")
    response = login(tech).post(
        add_url(cedar),
        {"asset_tag": "cb-taken", "serial_number": "sn-taken", "model": model.pk},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["asset_tag"] == ["Asset tag cb-taken is already used in the district."]
    assert errors["serial_number"] == ["A Acme device with serial sn-taken exists."]
    assert Device.objects.count() == 1


def test_only_the_districts_models_are_offered(login, tech, cedar, model, elsewhere):
    foreign = DeviceModelFactory(district=elsewhere.district, name="Elsewhere Book")
    client = login(tech)
    assert list(client.get(add_url(cedar)).context["form"].fields["model"].queryset) == [model]
    response = client.post(
        add_url(cedar), {"asset_tag": "X1", "serial_number": "S1", "model": foreign.pk}
    )
    assert "model" in response.context["form"].errors
    assert not Device.objects.exists()


def test_a_principal_cannot_add_devices(login, principal, maple):
    assert login(principal).get(add_url(maple)).status_code == 403
