"""The inventory list (search, filters, sort, pages, CSV) and the bulk actions on it."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from equity.inventory import services
from equity.inventory.models import Device, DeviceEvent, DeviceStatus, EventKind
from schools.models import Role
from tests.factories import (
    DeviceFactory,
    DeviceModelFactory,
    MembershipFactory,
    SchoolFactory,
    StudentFactory,
    UserFactory,
)

URL = reverse("equity:inventory")
BULK = reverse("equity:devices_bulk")


def tags(response) -> list[str]:
    return [d.asset_tag for d in response.context["page"].object_list]


@pytest.fixture
def chromebook(district):
    return DeviceModelFactory(district=district, maker="Acme", name="Chromebook 11")


@pytest.fixture
def hotspot(district):
    return DeviceModelFactory(district=district, maker="Net", name="Spot", kind="hotspot")


def test_each_reader_sees_the_devices_of_their_schools(
    login, tech, principal, district_admin, maple, cedar, elsewhere
):
    DeviceFactory(school=maple, asset_tag="MAPLE-1")
    DeviceFactory(school=cedar, asset_tag="CEDAR-1")
    DeviceFactory(school=elsewhere, asset_tag="HOLLOW-1")
    assert tags(login(tech).get(URL)) == ["CEDAR-1"]
    assert tags(login(principal).get(URL)) == ["MAPLE-1"]
    assert tags(login(district_admin).get(URL)) == ["CEDAR-1", "MAPLE-1"]


def test_a_coach_does_not_see_the_inventory(login, coach):
    assert login(coach).get(URL).status_code == 403


def test_a_coach_who_is_tech_staff_elsewhere_sees_only_that_schools_devices(
    login, coach, maple, cedar
):
    MembershipFactory(user=coach, school=cedar, role=Role.TECH_STAFF)
    DeviceFactory(school=maple, asset_tag="MAPLE-1")
    DeviceFactory(school=cedar, asset_tag="CEDAR-1")
    response = login(coach).get(URL)
    assert tags(response) == ["CEDAR-1"]
    options = [s.name for s in response.context["filter"].form.fields["school"].queryset]
    assert options == ["Cedar Middle"]


def test_the_school_filter_offers_only_the_users_schools(login, principal, maple, cedar):
    client = login(principal)
    content = client.get(URL).content
    assert b'role="combobox"' in content and b"Cedar Middle" not in content
    # A type-ahead (schools/typeahead.py): its search offers the scope's schools alone.
    offered = client.get(reverse("schools:search"), {"source": "schools.school"}).json()
    assert [r["label"] for r in offered["results"]] == [maple.name]


def test_search_matches_the_start_of_a_tag_or_serial_and_a_holders_exact_id(login, tech, cedar):
    a = DeviceFactory(school=cedar, asset_tag="CB-10042", serial_number="5CD1234XYZ")
    DeviceFactory(school=cedar, asset_tag="CB-20042", serial_number="5CD9999AAA")
    held = DeviceFactory(school=cedar, asset_tag="CB-30000", serial_number="NX77")
    services.device_check_out(
        device=held, student=StudentFactory(school=cedar, local_id="778899"), by=tech
    )
    client = login(tech)
    assert tags(client.get(URL, {"q": "cb-1"})) == [a.asset_tag]  # prefix, any case
    assert tags(client.get(URL, {"q": "5cd1234"})) == [a.asset_tag]  # serial prefix
    assert tags(client.get(URL, {"q": "778899"})) == [held.asset_tag]  # holder's ID
    assert tags(client.get(URL, {"q": "0042"})) == []  # never a substring match
    assert tags(client.get(URL, {"q": "7788"})) == []  # a student ID must be whole


def test_search_finds_a_fragment_of_a_model_name_in_the_catalog(
    login, tech, cedar, chromebook, hotspot
):
    DeviceFactory(school=cedar, model=chromebook, asset_tag="C-1")
    DeviceFactory(school=cedar, model=hotspot, asset_tag="C-2")
    client = login(tech)
    assert tags(client.get(URL, {"q": "romebook"})) == ["C-1"]  # a fragment of the name
    assert tags(client.get(URL, {"q": "net"})) == ["C-2"]  # or of the maker
    assert tags(client.get(URL, {"q": "tablet"})) == []


def test_filters_by_school_status_model_and_kind(
    login, district_admin, maple, cedar, chromebook, hotspot
):
    DeviceFactory(school=maple, model=chromebook, asset_tag="M-CB")
    DeviceFactory(school=maple, model=hotspot, asset_tag="M-HS")
    DeviceFactory(school=cedar, model=chromebook, asset_tag="C-CB", status=DeviceStatus.LOST)
    client = login(district_admin)
    assert tags(client.get(URL, {"school": maple.pk})) == ["M-CB", "M-HS"]
    assert tags(client.get(URL, {"status": "lost"})) == ["C-CB"]
    assert tags(client.get(URL, {"model": chromebook.pk})) == ["C-CB", "M-CB"]
    assert tags(client.get(URL, {"kind": "hotspot"})) == ["M-HS"]
    assert tags(client.get(URL, {"kind": "chromebook", "school": cedar.pk})) == ["C-CB"]


def test_sorting_follows_a_whitelist(login, district_admin, maple, cedar):
    DeviceFactory(school=maple, asset_tag="A-1", status=DeviceStatus.RETIRED)
    DeviceFactory(school=cedar, asset_tag="B-1", status=DeviceStatus.IN_STOCK)
    client = login(district_admin)
    assert tags(client.get(URL, {"sort": "-asset_tag"})) == ["B-1", "A-1"]
    assert tags(client.get(URL, {"sort": "status"})) == ["B-1", "A-1"]  # in_stock < retired
    assert tags(client.get(URL, {"sort": "school"})) == ["B-1", "A-1"]  # Cedar < Maple
    refused = client.get(URL, {"sort": "serial_number; DROP TABLE"})
    assert refused.status_code == 200
    assert tags(refused) == ["A-1", "B-1"]  # the default order
    assert "sort" in refused.context["filter"].form.errors


def test_pages_of_fifty_without_counting_the_whole_list(login, tech, cedar):
    DeviceFactory.create_batch(60, school=cedar)
    client = login(tech)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(URL)
    assert len(tags(first)) == 50
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert b"after=" in first.content and b"Devices 1\xe2\x80\x9350" in first.content
    page = first.context["page"]
    with CaptureQueriesContext(connection) as queries:
        second = client.get(URL, {"after": page.next_cursor})
    # A keyset page: it starts after the first page's last row, no OFFSET, no count.
    assert not [q for q in queries.captured_queries if "OFFSET" in q["sql"].upper()]
    assert len(tags(second)) == 10 and not set(tags(second)) & set(tags(first))
    assert b"Devices 51\xe2\x80\x9360" in second.content
    assert not second.context["page"].has_next()
    assert b"after=" not in second.content and b"before=" in second.content
    back = client.get(URL, {"before": second.context["page"].previous_cursor})
    assert tags(back) == tags(first) and b"Devices 1\xe2\x80\x9350" in back.content
    edited = client.get(URL, {"after": "not-a-cursor"})
    assert edited.status_code == 200 and tags(edited) == tags(first)
    beyond = client.get(URL, {"after": second.context["page"].next_cursor})
    assert tags(beyond) == [] and b"past the end of the list" in beyond.content


def test_the_list_shows_who_holds_each_device(login, tech, cedar):
    device = DeviceFactory(school=cedar, asset_tag="CB-1")
    services.device_check_out(
        device=device, student=StudentFactory(school=cedar, local_id="445566"), by=tech
    )
    response = login(tech).get(URL)
    assert response.context["page"].object_list[0].holder_local_id == "445566"
    assert b"445566" in response.content


def test_htmx_gets_only_the_results(login, tech, cedar):
    DeviceFactory(school=cedar, asset_tag="CB-HTMX")
    response = login(tech).get(URL, {"q": "cb-h"}, headers={"HX-Request": "true"})
    assert b"CB-HTMX" in response.content
    assert b"<h1" not in response.content and b"<html" not in response.content


def test_csv_streams_the_filtered_list(login, tech, cedar, maple, chromebook):
    held = DeviceFactory(school=cedar, model=chromebook, asset_tag="CB-1", serial_number="S1")
    DeviceFactory(school=cedar, model=chromebook, asset_tag="=HYPERLINK(1)", serial_number="S2")
    DeviceFactory(school=cedar, model=chromebook, asset_tag="ZZ-9", status="lost")
    DeviceFactory(school=maple, asset_tag="CB-MAPLE")
    services.device_check_out(
        device=held, student=StudentFactory(school=cedar, local_id="123123"), by=tech
    )
    response = login(tech).get(URL, {"format": "csv", "status": "assigned"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["asset_tag", "serial_number", "school_code"]
    assert rows[1:] == [
        [
            "CB-1",
            "S1",
            "CEDAR",
            "Cedar Middle",
            "Acme",
            "Chromebook 11",
            "chromebook",
            "assigned",
            "123123",
            "",
            "",
        ]
    ]
    everything = login(tech).get(URL, {"format": "csv"})
    text = b"".join(everything.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text  # neutralised, not a formula
    assert "CB-MAPLE" not in text  # another school's device never leaks into the file


def test_the_bulk_bar_is_for_those_who_may_write(login, tech, principal, cedar, maple):
    DeviceFactory(school=cedar)
    DeviceFactory(school=maple)
    assert b'name="bulk-ids"' in login(tech).get(URL).content
    assert b'name="bulk-ids"' not in login(principal).get(URL).content


INVENTORY_VIEWS = [
    # (who, query, queries): session, user, the two scope queries, the school and model
    # choices of the filters, the bulk form's schools (writers only), and the page; a
    # search adds its two id lookups (holders, catalog), the kind filter its catalog ids,
    # a chosen model its lookup.
    # The school filter and the bulk form's "to school" are type-aheads: no query for them.
    # A district admin's is one fewer: the district's schools are named, never listed.
    ("tech", {}, 6),
    ("tech", {"status": "assigned", "q": "CB-"}, 8),
    ("tech", {"q": "900003"}, 8),
    ("principal", {"status": "in_stock", "model": "chromebook"}, 7),
    ("principal", {"q": "romebook"}, 8),
    ("district_admin", {}, 5),
    ("district_admin", {"status": "assigned", "model": "chromebook"}, 6),
    ("district_admin", {"q": "CB-1"}, 7),
    ("district_admin", {"kind": "chromebook", "sort": "updated"}, 6),
]


@pytest.mark.parametrize(("who", "query", "queries"), INVENTORY_VIEWS)
def test_the_list_costs_the_same_queries_whatever_the_number_of_devices(
    who, query, queries, request, login, tech, maple, cedar, chromebook, django_assert_num_queries
):
    user = request.getfixturevalue(who)
    school = maple if who == "principal" else cedar
    query = {
        k: chromebook.pk if v == "chromebook" and k == "model" else v for k, v in query.items()
    }

    def fill(size, start):
        devices = DeviceFactory.create_batch(size, school=school, model=chromebook)
        for i, device in enumerate(devices[:5]):
            services.device_check_out(
                device=device,
                student=StudentFactory(school=school, local_id=f"9{start + i:05d}"),
                by=tech,
            )

    client = login(user)
    fill(5, 0)
    with django_assert_num_queries(queries):
        assert client.get(URL, query).status_code == 200
    fill(60, 100)
    SchoolFactory.create_batch(5, district=maple.district)
    with django_assert_num_queries(queries):
        assert client.get(URL, query).status_code == 200


# --- bulk actions -------------------------------------------------------------------


def post_bulk(client, devices, **data):
    return client.post(BULK, {"bulk-ids": [d.pk for d in devices], **data}, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_district_admin_moves_devices_to_another_school(login, district_admin, maple, cedar):
    devices = DeviceFactory.create_batch(2, school=cedar)
    response = post_bulk(
        login(district_admin),
        devices,
        **{"bulk-action": "move", "bulk-school": maple.pk, "back": "status=in_stock"},
    )
    assert response.redirect_chain[-1][0] == f"{URL}?status=in_stock"
    assert messages_of(response) == ["2 devices moved to Maple Elementary."]
    moved = Device.objects.filter(pk__in=[d.pk for d in devices])
    assert set(moved.values_list("school", flat=True)) == {maple.pk}
    assert DeviceEvent.objects.filter(kind=EventKind.MOVED, school=cedar).count() == 2


def test_the_tech_staff_retires_devices_with_a_note(login, tech, cedar):
    devices = DeviceFactory.create_batch(3, school=cedar)
    response = post_bulk(
        login(tech), devices[:2], **{"bulk-action": "retire", "bulk-note": "Cracked screens"}
    )
    assert messages_of(response) == ["2 devices retired."]
    statuses = dict(Device.objects.values_list("asset_tag", "status"))
    assert [statuses[d.asset_tag] for d in devices] == ["retired", "retired", "in_stock"]
    notes = DeviceEvent.objects.filter(kind=EventKind.RETIRED).values_list("note", flat=True)
    assert list(notes) == ["Cracked screens"] * 2


@pytest.mark.parametrize("intruder", ["other_school", "missing"])
def test_one_device_that_is_not_the_users_refuses_the_whole_action(
    login, tech, cedar, maple, intruder
):
    mine = DeviceFactory.create_batch(2, school=cedar)
    if intruder == "other_school":
        foreign = DeviceFactory(school=maple)
    else:
        foreign = Device(pk=mine[-1].pk + 1000)
    response = post_bulk(login(tech), [*mine, foreign], **{"bulk-action": "retire"})
    assert messages_of(response) == [
        "1 of the 3 selected devices is not in your schools, so nothing was changed."
    ]
    assert set(Device.objects.values_list("status", flat=True)) == {"in_stock"}
    assert not DeviceEvent.objects.exists()


def test_a_device_where_the_user_only_reads_refuses_the_whole_action(login, tech, cedar, maple):
    MembershipFactory(user=tech, school=maple, role=Role.PRINCIPAL)
    devices = [DeviceFactory(school=cedar), DeviceFactory(school=maple)]
    response = post_bulk(login(tech), devices, **{"bulk-action": "retire"})
    assert messages_of(response) == [
        "Your role does not allow changing devices at Maple Elementary, so nothing was changed."
    ]
    assert not Device.objects.filter(status="retired").exists()


def test_the_target_school_must_be_one_the_user_may_act_for(login, tech, cedar, maple, elsewhere):
    devices = DeviceFactory.create_batch(2, school=cedar)
    client = login(tech)
    for school in (maple, elsewhere):
        response = post_bulk(client, devices, **{"bulk-action": "move", "bulk-school": school.pk})
        assert "Select a valid choice" in messages_of(response)[0]
    response = post_bulk(client, devices, **{"bulk-action": "move"})
    assert messages_of(response) == [
        "Nothing was changed: Choose the school to move the devices to."
    ]
    assert set(Device.objects.values_list("school", flat=True)) == {cedar.pk}


def test_a_refusal_from_the_service_lists_the_problems_and_changes_nothing(
    login, district_admin, tech, cedar, maple
):
    devices = DeviceFactory.create_batch(2, school=cedar)
    services.device_check_out(device=devices[0], student=StudentFactory(school=cedar), by=tech)
    response = post_bulk(
        login(district_admin), devices, **{"bulk-action": "move", "bulk-school": maple.pk}
    )
    assert messages_of(response) == [
        f"Nothing was changed: {devices[0].asset_tag} is checked out; check it in before moving it."
    ]
    assert set(Device.objects.values_list("school", flat=True)) == {cedar.pk}


def test_nothing_selected_is_an_error(login, tech):
    response = login(tech).post(BULK, {"bulk-action": "retire"}, follow=True)
    assert messages_of(response) == ["Nothing was changed: Select at least one device."]


def test_a_principal_may_not_use_bulk_actions(login, principal, maple):
    device = DeviceFactory(school=maple)
    response = login(principal).post(BULK, {"bulk-ids": [device.pk], "bulk-action": "retire"})
    assert response.status_code == 403
    assert Device.objects.get().status == "in_stock"


def test_bulk_shows_a_selection_for_a_second_look(login, tech, cedar, maple):
    mine = DeviceFactory(school=cedar, asset_tag="CB-MINE")
    theirs = DeviceFactory(school=maple, asset_tag="CB-THEIRS")
    response = login(tech).get(BULK, {"bulk-ids": [mine.pk, theirs.pk]})
    assert response.status_code == 200
    assert b"CB-MINE" in response.content and b"CB-THEIRS" not in response.content
    assert b"1 of the selected devices is not in your schools" in response.content
    assert login(tech).put(BULK).status_code == 405


def test_a_user_without_a_writing_role_cannot_open_bulk_actions(login, db):
    user = UserFactory()
    MembershipFactory(user=user, school=SchoolFactory(), role=Role.PRINCIPAL)
    assert login(user).get(BULK).status_code == 403


# --- the way in ---------------------------------------------------------------------


def test_the_navigation_leads_readers_to_the_inventory_and_coverage(
    login, principal, tech, district_admin, coach, district
):
    coverage = reverse("equity:district_coverage", args=[district.pk])
    for user in (principal, tech, district_admin):
        content = login(user).get(reverse("today:home")).content.decode()
        assert f'href="{URL}">Inventory</a>' in content
        assert f'href="{coverage}">Coverage</a>' in content
    content = login(coach).get(reverse("today:home")).content.decode()
    assert ">Inventory</a>" not in content and ">Coverage</a>" not in content


def test_the_school_page_links_to_what_each_role_may_use(
    login, tech, principal, coach, maple, cedar
):
    desks = ["checkout", "checkin", "audit", "device_add"]
    content = login(tech).get(reverse("schools:school_detail", args=[cedar.pk])).content.decode()
    assert reverse("equity:coverage", args=[cedar.pk]) in content
    assert f"{URL}?school={cedar.pk}" in content
    for name in desks:
        assert reverse(f"equity:{name}", args=[cedar.pk]) in content

    content = login(principal).get(reverse("schools:school_detail", args=[maple.pk])).content
    assert reverse("equity:coverage", args=[maple.pk]).encode() in content
    for name in desks:
        assert reverse(f"equity:{name}", args=[maple.pk]).encode() not in content

    content = login(coach).get(reverse("schools:school_detail", args=[maple.pk])).content
    assert reverse("equity:coverage", args=[maple.pk]).encode() not in content
    assert f"{URL}?school=".encode() not in content


def test_the_tech_staff_home_links_each_schools_plan_and_desk(login, tech, cedar):
    content = login(tech).get(reverse("today:home")).content.decode()
    assert reverse("equity:coverage", args=[cedar.pk]) in content
    assert reverse("equity:checkout", args=[cedar.pk]) in content
    assert "arrives with the equity module" not in content
