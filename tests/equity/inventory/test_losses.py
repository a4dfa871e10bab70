"""The loss report: devices lost per year by circumstance and place, per school and district,
as a chart, a table and a CSV file."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

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
