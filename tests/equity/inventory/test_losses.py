"""The loss report: devices lost per year by circumstance and place, per school and district,
as a chart, a table and a CSV file."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from equity.inventory import services
from tests.factories import DeviceFactory


def _lose(school, by, *, circumstance="left_on_transit", place="", year=None, stolen=False):
    at = timezone.now() if year is None else timezone.make_aware(datetime(year, 3, 15, 10))
    device = DeviceFactory(school=school)
    return services.device_report_missing(
        device=device, by=by, circumstance=circumstance, place=place, stolen=stolen, at=at
    )


def test_it_counts_losses_per_year_by_circumstance_and_place(login, tech, cedar, maple):
    _lose(cedar, tech, place="Bus 12", year=2025)
    _lose(cedar, tech, place=" bus 12 ", year=2025)
    _lose(cedar, tech, circumstance="damaged", place="Gym", year=2025)
    _lose(cedar, tech, stolen=True, place="Parking lot", year=2026)
    _lose(maple, tech, place="Bus 12", year=2026)  # another school: not in Cedar's report
    response = login(tech).get(reverse("equity:school_losses", args=[cedar.pk]))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.years == [2026, 2025]
    assert report.by_circumstance[2025] == {"left_on_transit": 2, "damaged": 1}
    assert report.by_circumstance[2026] == {"stolen": 1}
    assert report.places[2025][0] == ("bus 12", "Left on public transit", 2)
    chart = json.loads(
        response.content.decode().split('id="loss-data" type="application/json">')[1].split("<")[0]
    )
    assert chart["labels"] == ["2025", "2026"]
    assert {d["label"]: d["data"] for d in chart["datasets"]}["Left on public transit"] == [2, 0]


def test_the_csv_lists_every_school_circumstance_and_place(
    login, district_admin, district, cedar, maple, tech
):
    _lose(cedar, tech, place="Bus 12", year=2025)
    _lose(maple, tech, circumstance="damaged", place="Library", year=2026)
    response = login(district_admin).get(
        reverse("equity:district_losses", args=[district.pk]), {"format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["year", "school", "circumstance", "place", "devices"]
    assert ["2026", "Maple Elementary", "Damaged", "library", "1"] in rows
    assert ["2025", "Cedar Middle", "Left on public transit", "bus 12", "1"] in rows


def test_a_coach_may_not_read_it(login, coach, maple):
    response = login(coach).get(reverse("equity:school_losses", args=[maple.pk]))
    assert response.status_code == 403


def test_the_report_costs_the_same_queries_at_two_sizes(
    login, district_admin, district, cedar, tech, django_assert_num_queries
):
    client = login(district_admin)
    url = reverse("equity:district_losses", args=[district.pk])
    _lose(cedar, tech, place="Bus 1", year=2024)

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for year in (2024, 2025, 2026):
        for n in range(12):
            _lose(cedar, tech, place=f"Bus {n}", year=year, circumstance="other")
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_tech_home_counts_this_months_losses(login, tech, cedar):
    _lose(cedar, tech, place="Bus 4")
    _lose(cedar, tech, place="Bus 4", stolen=True)
    old = _lose(cedar, tech, place="Bus 4")
    type(old).objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=70))
    content = login(tech).get(reverse("today:home")).content.decode()
    section = content.split("Lost this month, by circumstance")[1].split("</section>")[0]
    assert "Left on public transit" in section and "Stolen" in section


def test_the_kept_report_is_the_counted_one_until_a_loss_is_added(
    login, district_admin, district, cedar, maple, tech
):
    """The district report is kept under the losses' change stamp: read again it equals the
    direct count without counting; a new loss (at any school, in any year), another time
    zone or another set of schools is counted afresh."""
    from equity.inventory.losses import count_losses, loss_report
    from schools.models import School

    client = login(district_admin)
    url = reverse("equity:district_losses", args=[district.pk])
    schools = School.objects.filter(district=district)
    _lose(cedar, tech, place="Bus 1", year=2025)
    _lose(maple, tech, circumstance="damaged", place="Gym", year=2026)
    _lose(maple, tech, stolen=True, year=2026)

    client.get(url)
    with CaptureQueriesContext(connection) as kept:
        response = client.get(url)
    assert response.context["report"] == count_losses(schools)
    assert not [q for q in kept if "EXTRACT" in q["sql"].upper()], "counted again"

    for school, year in ((cedar, 2026), (maple, 2019), (cedar, None)):
        _lose(school, tech, place="Bus 1", year=year)
        with CaptureQueriesContext(connection) as counted:
            response = client.get(url)
        assert [q for q in counted if "EXTRACT" in q["sql"].upper()]
        assert response.context["report"] == count_losses(schools)
        assert 2026 in response.context["report"].years

    # The years are the district's: another zone is another report.
    late = datetime(2027, 12, 31, 23, 0, tzinfo=UTC)  # 2028 in Kiritimati (UTC+14)
    services.device_report_missing(
        device=DeviceFactory(school=cedar), by=tech, circumstance="other", at=late
    )
    with timezone.override("Pacific/Kiritimati"):
        assert loss_report(schools) == count_losses(schools)
        assert 2028 in loss_report(schools).years
    assert loss_report(schools) == count_losses(schools)
    assert 2027 in loss_report(schools).years
    # One school's report is not the district's.
    assert loss_report(schools.filter(pk=cedar.pk)) == count_losses(schools.filter(pk=cedar.pk))
    assert loss_report(schools.none()) == count_losses(schools.none())
