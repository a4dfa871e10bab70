"""The coverage plan of a school and the district view with the procurement forecast."""

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from equity.inventory import services
from equity.inventory.models import DeviceStatus
from schools.models import School
from tests.factories import DeviceFactory, DeviceModelFactory, SchoolFactory, StudentFactory


def school_url(school):
    return reverse("equity:coverage", args=[school.pk])


def district_url(district):
    return reverse("equity:district_coverage", args=[district.pk])


def chart(response, element_id) -> dict:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(match.group(1))


@pytest.fixture
def chromebook(district):
    return DeviceModelFactory(
        district=district,
        name="Chromebook 11",
        unit_price=Decimal("300.00"),
        auto_update_expiration=timezone.localdate() + timedelta(days=3 * 365),
    )


def test_the_school_plan_shows_target_usable_and_gaps(login, principal, maple, chromebook):
    DeviceFactory.create_batch(3, school=maple, model=chromebook)
    DeviceFactory(school=maple, model=chromebook, status=DeviceStatus.LOST)
    StudentFactory(school=maple, home_internet="no")
    response = login(principal).get(school_url(maple))
    assert response.status_code == 200
    row = response.context["row"]
    assert (row.target, row.usable, row.gap, row.homework_gap) == (330, 3, 327, 1)
    content = response.content.decode()
    assert "3 / 330" in content and "327 short" in content
    assert chart(response, "coverage-data")["datasets"][0]["data"] == [330, 150, 1]
    status = chart(response, "status-data")
    assert status["labels"] == ["In stock", "Lost"] and status["datasets"][0]["data"] == [3, 1]
    assert content.count('role="img"') == 2
    assert '<th scope="row" class="fw-normal">Lost</th><td class="text-end">1</td>' in content
    assert "js/charts.js" in content and "chart.umd.min.js" in content
    # A principal reads the plan, but the desks are for tech staff.
    assert reverse("equity:checkout", args=[maple.pk]) not in content


def test_the_forecast_prices_what_to_buy(login, district_admin, district, maple, chromebook):
    DeviceModelFactory(
        district=district, name="Tablet", touchscreen=True, unit_price=Decimal("400.00")
    )
    response = login(district_admin).get(school_url(maple))
    forecast = response.context["row"].forecast
    assert (forecast.standard, forecast.touch) == (180, 150)  # PK–2 gets touchscreens
    content = response.content.decode()
    assert "$54,000" in content and "$60,000" in content and "$114,000" in content


def test_an_unknown_price_makes_the_cost_unknown(login, district_admin, maple, district):
    DeviceModelFactory(district=district, name="Unpriced", unit_price=None)
    content = login(district_admin).get(school_url(maple)).content.decode()
    assert "The total is unknown until every model to buy is in the" in content


def test_the_district_view_puts_the_largest_gaps_and_highest_need_first(
    login, district_admin, district, maple, cedar
):
    SchoolFactory(district=district, name="Birch", economically_disadvantaged_pct=20)
    SchoolFactory(district=district, name="Aspen", economically_disadvantaged_pct=80)
    response = login(district_admin).get(district_url(district))
    names = [r.school.name for r in response.context["rows"]]
    # Cedar's gap is 550; the three others share a gap of 330, highest need first.
    assert names == ["Cedar Middle", "Aspen", "Birch", "Maple Elementary"]
    content = response.content.decode()
    positions = [content.index(f">{n}</a>") for n in names]
    assert positions == sorted(positions)
    assert response.context["totals"].target == 550 + 3 * 330
    assert chart(response, "coverage-data")["labels"] == names


def test_the_district_view_charts_the_largest_gaps_only(login, district_admin, district):
    SchoolFactory.create_batch(27, district=district)
    response = login(district_admin).get(district_url(district))
    assert len(response.context["rows"]) == 27
    assert len(chart(response, "coverage-data")["labels"]) == 25
    assert b"The chart shows the 25 schools with the largest gaps" in response.content


@pytest.mark.parametrize(("who", "school"), [("principal", "Maple"), ("tech", "Cedar")])
def test_school_staff_see_only_their_schools_in_the_district_view(
    login, request, district, maple, cedar, who, school
):
    response = login(request.getfixturevalue(who)).get(district_url(district))
    assert response.status_code == 200
    assert [r.school.name.split()[0] for r in response.context["rows"]] == [school]
    other = b"Cedar Middle" if school == "Maple" else b"Maple Elementary"
    assert other not in response.content


def test_coaches_do_not_see_coverage(login, coach, maple, district):
    client = login(coach)
    assert client.get(school_url(maple)).status_code == 403
    assert client.get(district_url(district)).status_code == 403


def test_another_districts_coverage_is_not_found(login, district_admin, elsewhere):
    client = login(district_admin)
    assert client.get(school_url(elsewhere)).status_code == 404
    assert client.get(district_url(elsewhere.district)).status_code == 404


def add_fleet(schools, model, per_school):
    for school in schools:
        DeviceFactory.create_batch(per_school, school=school, model=model)
        DeviceFactory(school=school, model=model, status=DeviceStatus.LOST)
        StudentFactory.create_batch(2, school=school, home_internet="no")


@pytest.mark.parametrize("large", [False, True])
def test_the_school_plan_costs_the_same_queries_whatever_the_fleet(
    large, login, tech, cedar, chromebook, django_assert_num_queries
):
    # Session, user, the two scope queries, the school, then coverage.py's six grouped
    # queries (schools, devices, statuses, students, losses, catalog).
    add_fleet([cedar], chromebook, 60 if large else 5)
    client = login(tech)
    with django_assert_num_queries(11):
        assert client.get(school_url(cedar)).status_code == 200


@pytest.mark.parametrize("large", [False, True])
def test_the_district_view_costs_the_same_queries_whatever_its_size(
    large, login, district_admin, district, maple, cedar, chromebook, django_assert_num_queries
):
    # Session, user, the two scope queries, the district; the cache's fingerprint (schools,
    # catalog, latest changes); on a miss coverage.py's six grouped queries; the schools of
    # the page.
    schools = [maple, cedar, *SchoolFactory.create_batch(58 if large else 0, district=district)]
    add_fleet(schools, chromebook, 3 if large else 2)
    client = login(district_admin)
    with django_assert_num_queries(14):
        assert client.get(district_url(district)).status_code == 200
    with django_assert_num_queries(8):
        assert client.get(district_url(district)).status_code == 200


def _csv_queries(client, district) -> tuple[int, int]:
    """Queries of the district CSV read to its end (the cache warmed), and its lines."""
    client.get(district_url(district), {"format": "csv"})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(district_url(district), {"format": "csv"})
        lines = b"".join(response.streaming_content).count(b"\n")
    return len(ctx.captured_queries), lines


def test_the_district_csv_costs_the_same_queries_at_two_sizes(
    login, district_admin, district, maple, cedar, chromebook
):
    # More schools than any batch the export might read them in (a district has 1,800).
    client = login(district_admin)
    small, small_lines = _csv_queries(client, district)
    School.unscoped.bulk_create(
        SchoolFactory.build(district=district, code=f"B{i:04d}") for i in range(1100)
    )
    large, large_lines = _csv_queries(client, district)
    assert (small_lines, large_lines) == (2 + 2, 1102 + 2)  # header, schools, total
    assert small == large


def test_the_district_view_pages_its_schools_and_totals_them_all(
    login, district_admin, district, maple, chromebook
):
    schools = [maple, *SchoolFactory.create_batch(59, district=district)]
    client = login(district_admin)
    first = client.get(district_url(district))
    assert len(first.context["rows"]) == 50 and first.context["school_count"] == 60
    assert first.context["totals"].target == sum(r.target for r in first.context["rows"]) + sum(
        r.target for r in client.get(district_url(district), {"page": 2}).context["rows"]
    )
    content = first.content.decode()
    assert "Schools 1–50 of 60" in content and "Page 1 of 2" in content
    assert len(chart(first, "coverage-data")["labels"]) == 25
    second = client.get(district_url(district), {"page": 2})
    shown = {r.school.pk for r in first.context["rows"]} | {
        r.school.pk for r in second.context["rows"]
    }
    assert shown == {s.pk for s in schools}


def test_the_cached_district_figures_follow_every_change(
    login, district_admin, principal, district, maple, cedar, chromebook
):
    client = login(district_admin)

    def usable():
        return client.get(district_url(district)).context["totals"].usable

    devices = DeviceFactory.create_batch(3, school=maple, model=chromebook)
    assert usable() == 3
    services.device_report_missing(device=devices[0], by=district_admin, stolen=True, place="bus")
    assert usable() == 2
    DeviceFactory(school=cedar, model=chromebook)
    assert usable() == 3
    before = client.get(district_url(district)).context["totals"].target
    maple.enrollment_pk_2 += 100
    maple.save()
    assert client.get(district_url(district)).context["totals"].target == before + 110
    chromebook.auto_update_expiration = timezone.localdate() - timedelta(days=1)
    chromebook.save()
    assert usable() == 0


def test_the_district_page_and_csv_show_shortage_and_spares_apart(
    login, district_admin, district, chromebook
):
    short = SchoolFactory(district=district, name="Short", code="SHORT")  # target 330
    over = SchoolFactory(district=district, name="Over", code="OVER")
    DeviceFactory.create_batch(30, school=short, model=chromebook)
    DeviceFactory.create_batch(400, school=over, model=chromebook)
    client = login(district_admin)
    response = client.get(district_url(district))
    content = response.content.decode()
    assert re.search(r'data-figure="short">300 short<', content)
    assert re.search(r'data-figure="spare">70 spare<', content)
    assert "at the 1 school below target" in content and "beyond target at 1 school;" in content
    # The table's total row keeps them apart too: never "230 short".
    assert "300 short · 70 spare" in content and "230 short" not in content
    response = client.get(district_url(district), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = list(csv.DictReader(io.StringIO(text)))
    assert [(r["school_code"], r["short"], r["spare"]) for r in lines] == [
        ("SHORT", "300", "0"),
        ("OVER", "0", "70"),
        ("", "300", "70"),
    ]
    assert lines[-1]["school"] == "Total of 2 schools" and lines[-1]["usable"] == "430"
