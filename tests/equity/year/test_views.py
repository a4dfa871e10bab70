"""The device year's pages: stations (full page and htmx), the not-returned export, the
agreement pages, charges and the rollover page; who may do what; and their query counts."""

import base64
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from equity.inventory.models import Assignment, Student
from equity.year import services as year_services
from equity.year.models import Acceptance, Charge, ChargeStatus, StationEvent
from schools.models import Role
from tests.factories import (
    DeviceAgreementFactory,
    DeviceFactory,
    MembershipFactory,
    PriceListEntryFactory,
    StationEventFactory,
    StudentFactory,
    open_assignment,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def handout(cedar):
    return StationEventFactory(school=cedar, kind="handout", name="Grade 6 handout", grades=[6])


@pytest.fixture
def collection(cedar):
    return StationEventFactory(school=cedar, kind="collection", name="June collection")


@pytest.fixture
def cedar_principal(cedar):
    from tests.factories import UserFactory

    user = UserFactory(email="principal@cedar.example.org")
    MembershipFactory(user=user, school=cedar, district=cedar.district, role=Role.PRINCIPAL)
    return user


def station(event):
    return event.get_absolute_url()


# --- handout station -------------------------------------------------------------------


def test_the_handout_station_shows_progress_and_who_is_waiting(login, tech, handout, cedar):
    StudentFactory(school=cedar, grade=6, local_id="W-1", homeroom="6A", needs_touch=True)
    open_assignment(cedar, grade=6)
    response = login(tech).get(station(handout))
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 of 2</strong> students have a device" in html
    assert "Still without a device: 1" in html
    assert re.search(r"W-1</th><td>6</td><td>6A</td><td>Touchscreen", html)
    assert 'data-desk-next="id_asset_tag"' in html and "autofocus" in html


def test_an_htmx_scan_hands_out_and_updates_the_station_in_place(login, tech, handout, cedar):
    StudentFactory(school=cedar, grade=6, local_id="600100")
    DeviceFactory(school=cedar, asset_tag="CB-100")
    response = login(tech).post(
        station(handout), {"student_id": "600100", "asset_tag": "CB-100"}, **HTMX
    )
    html = response.content.decode()
    assert "✓ CB-100 → student 600100" in html
    assert 'id="station-flash" hx-swap-oob="innerHTML"' in html and "alert-success" in html
    assert "1 of 1</strong> students have a device" in html
    assert "Every student of this day has a device." in html
    assert Assignment.objects.get().handout_event == handout


def test_an_htmx_wrong_scan_is_refused_in_place(login, tech, handout, cedar, maple):
    StudentFactory(school=maple, local_id="MAPLE-1")
    DeviceFactory(school=cedar, asset_tag="CB-200")
    response = login(tech).post(
        station(handout), {"student_id": "MAPLE-1", "asset_tag": "CB-200"}, **HTMX
    )
    html = response.content.decode()
    assert response["HX-Retarget"] == "#desk-fields"
    assert "Refused, nothing changed." in html
    assert "No student with ID MAPLE-1 at this school." in html
    assert "Maple" not in html.replace("MAPLE-1", "")  # another school is never named
    assert 'aria-describedby="id_student_id_error' in html or "id_student_id_error" in html
    assert not Assignment.objects.exists()


def test_without_htmx_a_scan_posts_and_comes_back(login, tech, handout, cedar):
    StudentFactory(school=cedar, grade=6, local_id="600200")
    DeviceFactory(school=cedar, asset_tag="CB-300")
    client = login(tech)
    response = client.post(station(handout), {"student_id": "600200", "asset_tag": "CB-300"})
    assert response.status_code == 302
    assert "✓ CB-300 → student 600200" in client.get(response.url).content.decode()


def test_a_principal_reads_the_days_but_cannot_run_a_station(
    login, cedar_principal, handout, cedar
):
    client = login(cedar_principal)
    assert client.get(station(handout)).status_code == 403
    page = client.get(reverse("equity:station_events", args=[cedar.pk]))
    assert page.status_code == 200 and "Grade 6 handout" in page.content.decode()
    assert "New day" not in page.content.decode()
    response = client.post(
        reverse("equity:station_events", args=[cedar.pk]),
        {"kind": "handout", "name": "x", "day": "2027-08-24"},
    )
    assert response.status_code == 403 and StationEvent.objects.count() == 1


def test_a_day_is_created_with_grades_of_the_school(login, tech, cedar):
    url = reverse("equity:station_events", args=[cedar.pk])
    client = login(tech)
    bad = client.post(url, {"kind": "handout", "name": "Wrong", "day": "2027-08-24", "grades": 2})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    response = client.post(
        url, {"kind": "collection", "name": "June", "day": "2027-06-10", "grades": [6, 7]}
    )
    event = StationEvent.objects.get()
    assert response.url == event.get_absolute_url() == station(event)
    assert (event.kind, event.grades, event.created_by) == ("collection", [6, 7], tech)


def test_a_station_of_the_other_kind_sends_you_to_the_right_one(login, tech, collection):
    url = reverse("equity:handout_station", args=[collection.pk])
    assert login(tech).get(url).url == station(collection)


@pytest.mark.parametrize("size", [2, 25])
def test_the_handout_station_costs_the_same_queries_at_any_size(
    size, login, tech, handout, cedar, django_assert_num_queries
):
    for _ in range(size):
        StudentFactory(school=cedar, grade=6)
        open_assignment(cedar, grade=6)
    client = login(tech)
    # Session, user, two scope queries, the day, then progress and the waiting list.
    with django_assert_num_queries(7):
        assert client.get(station(handout)).status_code == 200
    StudentFactory(school=cedar, grade=6, local_id=f"Q{size}")
    DeviceFactory(school=cedar, asset_tag=f"Q-{size}")
    # A scan adds the lookups, the lock and the writes, whatever the size.
    with django_assert_num_queries(21):
        client.post(station(handout), {"student_id": f"Q{size}", "asset_tag": f"Q-{size}"}, **HTMX)


# --- collection station ----------------------------------------------------------------


def test_the_collection_station_takes_back_with_a_condition(login, tech, collection, cedar):
    a = open_assignment(cedar, grade=7, homeroom="7B")
    PriceListEntryFactory(district=cedar.district, kind="charger", amount=Decimal("19.00"))
    client = login(tech)
    refused = client.post(
        station(collection),
        {"asset_tag": a.device.asset_tag, "condition": "damaged", "note": ""},
        **HTMX,
    )
    assert "Say in a few words what is damaged." in refused.content.decode()
    response = client.post(
        station(collection),
        {"asset_tag": a.device.asset_tag, "condition": "good", "charger_missing": "on"},
        **HTMX,
    )
    html = response.content.decode()
    assert f"✓ {a.device.asset_tag} ← student {a.student.local_id} (good, charger missing)" in html
    assert "Missing charger: $19 (due)" in html
    assert "Every device of this day is back." in html
    a.refresh_from_db()
    assert not a.is_open and a.charger_missing and a.collection_event == collection


def test_the_not_returned_list_is_grouped_and_exported(login, tech, collection, cedar):
    open_assignment(
        cedar, grade=6, homeroom="6A", device=DeviceFactory(school=cedar, asset_tag="X-1")
    )
    open_assignment(
        cedar, grade=8, homeroom="8C", device=DeviceFactory(school=cedar, asset_tag="X-2")
    )
    client = login(tech)
    html = client.get(station(collection)).content.decode()
    assert "Not back yet: 2" in html
    assert re.search(r"6</th><td>6A</td><td class=\"text-end\">1", html)
    response = client.get(station(collection) + "?format=csv")
    body = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    lines = body.strip().splitlines()
    assert lines[0] == "grade,homeroom,student_id,asset_tag,maker,model,out_since"
    assert [line.split(",")[3] for line in lines[1:]] == ["X-1", "X-2"]


@pytest.mark.parametrize("size", [2, 25])
def test_the_collection_station_costs_the_same_queries_at_any_size(
    size, login, tech, collection, cedar, django_assert_num_queries
):
    for i in range(size):
        open_assignment(cedar, grade=6 + i % 3, homeroom=f"H{i % 4}")
    client = login(tech)
    # Session, user, two scope queries, the day, then back, out, the list and the groups.
    with django_assert_num_queries(9):
        assert client.get(station(collection)).status_code == 200


# --- acceptance ------------------------------------------------------------------------


def _data_url(png=PNG):
    return "data:image/png;base64," + base64.b64encode(png).decode()


def test_signed_at_the_station_then_printed(login, tech, cedar):
    DeviceAgreementFactory(district=cedar.district, version=3, text="Keep it dry.")
    a = open_assignment(cedar)
    url = reverse("equity:assignment_acceptance", args=[a.pk])
    client = login(tech)
    page = client.get(url).content.decode()
    assert "Not accepted yet." in page and "Keep it dry." in page
    empty = client.post(url, {"signer": "student", "signature": ""})
    assert "Sign in the box before saving." in empty.content.decode()
    response = client.post(url, {"signer": "student", "signature": _data_url()})
    assert response.status_code == 302
    acceptance = Acceptance.objects.get()
    assert acceptance.accepted and acceptance.agreement.version == 3
    assert "Accepted" in client.get(url).content.decode()
    image = client.get(reverse("equity:acceptance_signature", args=[a.pk]))
    assert image["Content-Type"] == "image/png" and image.content == PNG
    printed = client.get(reverse("equity:acceptance_print", args=[a.pk])).content.decode()
    assert "css/print.css" in printed and "Keep it dry." in printed and "version" in printed.lower()


def test_accepted_by_link_without_an_account(login, tech, client, cedar):
    DeviceAgreementFactory(district=cedar.district)
    a = open_assignment(cedar)
    url = reverse("equity:assignment_acceptance", args=[a.pk])
    login(tech).post(url, {"make_link": "1"})
    acceptance = Acceptance.objects.get()
    assert acceptance.get_absolute_url() in client.get(url).content.decode()
    client.logout()
    public = client.get(acceptance.get_absolute_url())
    assert public.status_code == 200 and a.device.asset_tag in public.content.decode()
    refused = client.post(acceptance.get_absolute_url(), {"signer": "family"})
    assert "This field is required" in refused.content.decode()
    done = client.post(acceptance.get_absolute_url(), {"signer": "family", "read": "on"})
    assert "Thank you" in done.content.decode()
    acceptance.refresh_from_db()
    assert acceptance.accepted and acceptance.method == "link"


def test_an_unknown_agreement_link_says_so(client, db):
    response = client.get(reverse("equity:accept", args=["nope"]))
    assert response.status_code == 200
    assert "not one we know" in response.content.decode()


def test_no_signature_yet_is_a_404(login, tech, cedar):
    a = open_assignment(cedar)
    assert login(tech).get(reverse("equity:acceptance_signature", args=[a.pk])).status_code == 404


# --- charges ---------------------------------------------------------------------------


def test_charges_are_added_resolved_and_repeat_cases_shown(login, tech, cedar_principal, cedar):
    PriceListEntryFactory(district=cedar.district, kind="loss", amount=Decimal("250.00"))
    a = open_assignment(cedar, local_id="LOSER")
    url = reverse("equity:charges", args=[cedar.pk])
    client = login(tech)
    bad = client.post(url, {"asset_tag": "NOPE", "student_id": "LOSER", "kind": "loss"})
    assert "No device with asset tag NOPE at this school." in bad.content.decode()
    client.post(url, {"asset_tag": a.device.asset_tag, "student_id": "LOSER", "kind": "loss"})
    charge = Charge.objects.get()
    assert charge.amount == Decimal("250.00") and charge.status == ChargeStatus.DUE
    client.post(reverse("equity:charge_resolve", args=[charge.pk]), {"status": "waived"})
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.DUE  # a waiver needs a reason
    client.post(
        reverse("equity:charge_resolve", args=[charge.pk]), {"status": "paid", "note": "Check"}
    )
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID

    from equity.inventory import services

    services.device_report_missing(device=a.device, by=tech, circumstance="other")
    device = open_assignment(cedar, student=a.student).device
    services.device_report_missing(device=device, by=tech, circumstance="other")
    page = login(cedar_principal).get(url).content.decode()
    assert "Student LOSER" in page and "2 incidents" in page
    assert "Add a charge" not in page


def test_a_principal_cannot_resolve_a_charge(login, cedar_principal, cedar):
    PriceListEntryFactory(district=cedar.district, kind="loss")
    a = open_assignment(cedar)
    charge = year_services.charge_assess(device=a.device, student=a.student, kind="loss", by=None)
    response = login(cedar_principal).post(
        reverse("equity:charge_resolve", args=[charge.pk]), {"status": "paid"}
    )
    assert response.status_code == 403


# --- rollover page ---------------------------------------------------------------------


def test_the_rollover_page_checks_then_runs(login, district_admin, district, maple):
    StudentFactory(school=maple, grade=3, local_id="R-3")
    StudentFactory(school=maple, grade=4, local_id="R-4")
    url = reverse("equity:rollover", args=[district.pk])
    client = login(district_admin)

    def upload():
        return SimpleUploadedFile("leavers.csv", b"student_id,reason\nR-4,transferred\n")

    check = client.post(url, {"leavers": upload()}).content.decode()
    assert "1 students move up a grade." in check and "Nothing has changed yet." in check
    assert Student.objects.get(local_id="R-3").grade == 3
    response = client.post(url, {"leavers": upload(), "confirm": "on"})
    assert response.status_code == 302
    assert Student.objects.get(local_id="R-3").grade == 4
    assert not Student.objects.get(local_id="R-4").active
    again = client.post(url, {"leavers": upload(), "confirm": "on"}).content.decode()
    assert "Nothing was changed" in again and "already run" in again


def test_the_rollover_page_names_bad_rows(login, district_admin, district, maple):
    url = reverse("equity:rollover", args=[district.pk])
    bad = SimpleUploadedFile("l.csv", b"student_id,reason\nGHOST,graduated\n")
    page = login(district_admin).post(url, {"leavers": bad}).content.decode()
    assert "Row 2: No enrolled student with ID GHOST" in page


def test_only_a_district_admin_rolls_over(login, tech, district):
    assert login(tech).get(reverse("equity:rollover", args=[district.pk])).status_code == 403


def test_the_device_page_shows_whether_the_agreement_was_accepted(login, tech, cedar):
    DeviceAgreementFactory(district=cedar.district)
    a = open_assignment(cedar)
    url = reverse("equity:device_detail", args=[a.device.pk])
    client = login(tech)
    assert "Agreement not accepted yet" in client.get(url).content.decode()
    year_services.accept_signed(assignment=a, signature=PNG, signer="family")
    assert "Agreement accepted" in client.get(url).content.decode()


# --- the district's agreement and price list -------------------------------------------


def test_a_district_admin_publishes_versions_and_sets_prices(login, district_admin, district):
    from equity.year.models import DeviceAgreement, PriceListEntry
    from tests.factories import DeviceModelFactory

    url = reverse("equity:year_settings", args=[district.pk])
    client = login(district_admin)
    empty = client.post(url, {"agreement-title": "Agreement", "agreement-text": ""})
    assert "This field is required" in empty.content.decode()
    for text in ("Keep it dry.", "Keep it dry and charged."):
        client.post(url, {"agreement-title": "Agreement", "agreement-text": text})
    assert list(DeviceAgreement.objects.values_list("version", "text")) == [
        (2, "Keep it dry and charged."),
        (1, "Keep it dry."),
    ]
    same = client.post(
        url, {"agreement-title": "Agreement", "agreement-text": "Keep it dry and charged."}
    )
    assert "current version already" in same.content.decode()

    model = DeviceModelFactory(district=district)
    client.post(url, {"price-kind": "screen", "price-amount": "60"})
    client.post(url, {"price-kind": "screen", "price-amount": "70"})
    client.post(url, {"price-kind": "screen", "price-device_model": model.pk, "price-amount": "95"})
    negative = client.post(url, {"price-kind": "loss", "price-amount": "-1"})
    assert "greater than or equal to 0" in negative.content.decode()
    prices = {p.device_model_id: p.amount for p in PriceListEntry.objects.filter(kind="screen")}
    assert prices == {None: Decimal("70.00"), model.pk: Decimal("95.00")}


def test_another_districts_model_is_refused_on_the_price_list(
    login, district_admin, district, elsewhere
):
    from tests.factories import DeviceModelFactory

    foreign = DeviceModelFactory(district=elsewhere.district)
    with pytest.raises(Exception, match="catalog"):
        year_services.set_price(
            district=district, kind="screen", device_model=foreign, amount=Decimal(1)
        )
    url = reverse("equity:year_settings", args=[district.pk])
    page = login(district_admin).post(
        url, {"price-kind": "screen", "price-device_model": foreign.pk, "price-amount": "1"}
    )
    assert "Select a valid choice" in page.content.decode()
