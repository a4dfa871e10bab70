import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from equity.inventory import coverage as coverage_module
from equity.inventory import services
from equity.inventory.coverage import device_gaps, district_totals, school_coverage
from equity.inventory.models import Circumstance, DeviceStatus
from schools.models import School
from tests.factories import DeviceFactory, DeviceModelFactory, SchoolFactory, StudentFactory

TODAY = date(2026, 11, 23)


def coverage(school, today=TODAY):
    (row,) = school_coverage(School.objects.filter(pk=school.pk), today=today)
    return row


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        (DeviceStatus.IN_STOCK, True),
        (DeviceStatus.ASSIGNED, True),
        (DeviceStatus.IN_REPAIR, False),
        (DeviceStatus.LOST, False),
        (DeviceStatus.STOLEN, False),
        (DeviceStatus.RETIRED, False),
    ],
)
def test_each_status_counts_as_usable_or_not(maple, status, counts):
    DeviceFactory(school=maple, status=status)
    assert coverage(maple).usable == (1 if counts else 0)


def test_a_device_past_its_auto_update_expiration_is_not_usable(maple):
    expired = DeviceModelFactory(
        district=maple.district, auto_update_expiration=TODAY - timedelta(days=1)
    )
    last_day = DeviceModelFactory(district=maple.district, auto_update_expiration=TODAY)
    DeviceFactory(school=maple, model=expired)
    DeviceFactory(school=maple, model=last_day)
    row = coverage(maple)
    assert row.usable == 1 and row.expiring_12m == 1


def test_target_and_gap_use_the_district_ratio(maple):
    # Maple: 300 students (factory), ratio 1.10 → 330.
    DeviceFactory.create_batch(5, school=maple)
    row = coverage(maple)
    assert (row.enrollment, row.target, row.usable, row.gap) == (300, 330, 5, 325)
    maple.district.device_planning_ratio = Decimal("1.25")
    maple.district.save()
    assert coverage(maple).target == 375


def test_hotspots_are_not_computing_devices(maple):
    hotspot = DeviceModelFactory(district=maple.district, kind="hotspot")
    DeviceFactory(school=maple, model=hotspot)
    assert coverage(maple).usable == 0


def test_touch_target_is_pk2_plus_older_students_who_need_touch(maple):
    StudentFactory(school=maple, grade=4, needs_touch=True)
    StudentFactory(school=maple, grade=1, needs_touch=True)  # already in the PK–2 count
    touch = DeviceModelFactory(district=maple.district, touchscreen=True)
    DeviceFactory.create_batch(3, school=maple, model=touch)
    DeviceFactory(school=maple)
    row = coverage(maple)
    assert row.touch_target == 150 + 1
    assert (row.touch_usable, row.touch_gap) == (3, 148)


@pytest.mark.parametrize("lookup_up_to", [coverage_module.LOOKUP_UP_TO_SCHOOLS, 0])
def test_the_homework_gap_counts_students_without_internet_or_hotspot(
    maple, tech, monkeypatch, lookup_up_to
):
    # A few schools look up each student's hotspot, many join them: the same figures.
    monkeypatch.setattr(coverage_module, "LOOKUP_UP_TO_SCHOOLS", lookup_up_to)
    StudentFactory.create_batch(2, school=maple, home_internet="no")
    covered = StudentFactory(school=maple, home_internet="no")
    StudentFactory(school=maple, home_internet="unknown")
    StudentFactory(school=maple, home_internet="no", active=False)  # left the school
    hotspot = DeviceFactory(
        school=maple, model=DeviceModelFactory(district=maple.district, kind="hotspot")
    )
    services.device_check_out(device=hotspot, student=covered, by=tech)
    # A hotspot handed back no longer covers its student.
    returned = StudentFactory(school=maple, home_internet="no")
    lent = DeviceFactory(school=maple, model=hotspot.model)
    services.device_check_out(device=lent, student=returned, by=tech)
    services.device_check_in(device=lent, by=tech)
    row = coverage(maple)
    assert (row.no_home_internet, row.hotspots_assigned, row.homework_gap) == (4, 1, 3)


def test_loss_rate_counts_devices_lost_in_the_last_12_months(maple, tech):
    devices = DeviceFactory.create_batch(10, school=maple)
    services.device_report_missing(
        device=devices[0], by=tech, circumstance=Circumstance.LEFT_ON_TRANSIT
    )
    services.device_report_missing(device=devices[1], by=tech, stolen=True)
    services.device_report_missing(
        device=devices[2],
        by=tech,
        circumstance=Circumstance.OTHER,
        at=timezone.now() - timedelta(days=400),
    )
    assert coverage(maple).loss_rate_12m == pytest.approx(2 / 10)
    assert coverage(SchoolFactory(district=maple.district)).loss_rate_12m is None


def test_the_forecast_buys_for_losses_expirations_and_the_homework_gap(district):
    school = SchoolFactory(district=district, enrollment_pk_2=20, enrollment_3_5=80)  # target 110
    standard = DeviceModelFactory(
        district=district, unit_price=Decimal("300"), auto_update_expiration=date(2031, 6, 1)
    )
    touch = DeviceModelFactory(
        district=district,
        touchscreen=True,
        unit_price=Decimal("400"),
        auto_update_expiration=date(2031, 6, 1),
    )
    hotspot = DeviceModelFactory(district=district, kind="hotspot", unit_price=Decimal("90"))
    aging = DeviceModelFactory(
        district=district,
        unit_price=Decimal("250"),
        auto_update_expiration=TODAY + timedelta(days=100),
    )
    DeviceFactory.create_batch(80, school=school, model=standard)
    DeviceFactory.create_batch(10, school=school, model=touch)
    DeviceFactory.create_batch(10, school=school, model=aging)
    StudentFactory.create_batch(4, school=school, home_internet="no")
    DeviceFactory(school=school, model=hotspot)  # one hotspot in stock
    row = coverage(school)
    assert (row.target, row.usable, row.expiring_12m) == (110, 100, 10)
    f = row.forecast
    # No losses this year: need = 110 − (100 − 0 − 10) = 20; touch gap = 20 − 10 = 10.
    assert (f.touch, f.standard, f.hotspots) == (10, 10, 3)
    assert f.cost == 10 * 400 + 10 * 300 + 3 * 90
    assert [line.model for line in f.lines] == [touch, standard, hotspot]


def test_the_forecast_says_when_a_price_is_unknown(maple):
    DeviceModelFactory(district=maple.district, unit_price=None)
    f = coverage(maple).forecast
    # 330 to buy: the 150 PK–2 students' touch devices first (no touch model in the catalog).
    assert (f.touch, f.standard) == (150, 180)
    assert f.lines[0].model is None and f.cost is None


def test_device_gaps_are_the_coverage_gaps(district, maple, django_assert_num_queries):
    # Each kind of device the gap counts or leaves out, in schools short, on and over target.
    expired = DeviceModelFactory(district=district, auto_update_expiration=TODAY - timedelta(1))
    hotspot = DeviceModelFactory(district=district, kind="hotspot")
    small = SchoolFactory(  # one student: a target of 2 devices, so one spare
        district=district, enrollment_pk_2=1, enrollment_3_5=0, enrollment_6_8=0, enrollment_9_12=0
    )
    empty = SchoolFactory(district=district)
    for school in (maple, small):
        DeviceFactory.create_batch(3, school=school)
        DeviceFactory(school=school, model=expired)
        DeviceFactory(school=school, model=hotspot)
        DeviceFactory(school=school, status=DeviceStatus.IN_REPAIR)
    schools = School.objects.filter(pk__in=[maple.pk, small.pk, empty.pk])
    expected = {r.school.pk: r.gap for r in school_coverage(schools, today=TODAY)}
    with django_assert_num_queries(2):
        gaps = device_gaps(schools, today=TODAY)
    assert gaps == expected
    assert (gaps[maple.pk], gaps[small.pk], gaps[empty.pk]) == (327, -1, 330)


def test_schools_with_the_largest_gap_and_need_come_first(district):
    a = SchoolFactory(district=district, name="A", economically_disadvantaged_pct=20)
    b = SchoolFactory(district=district, name="B", economically_disadvantaged_pct=80)
    c = SchoolFactory(district=district, name="C", economically_disadvantaged_pct=90)
    DeviceFactory.create_batch(30, school=c)
    rows = school_coverage(School.objects.filter(district=district), today=TODAY)
    assert [r.school for r in rows] == [b, a, c]
    total = district_totals(rows)
    assert total.target == 990 and total.usable == 30 and total.short == 960
    assert total.forecast.standard == sum(r.forecast.standard for r in rows)


def test_a_district_total_never_nets_one_schools_spares_against_anothers_shortage(district):
    short = SchoolFactory(district=district, name="Short")  # 300 students, target 330
    over = SchoolFactory(district=district, name="Over")
    laptop = DeviceModelFactory(district=district)
    DeviceFactory.create_batch(30, school=short, model=laptop)
    DeviceFactory.create_batch(400, school=over, model=laptop)
    rows = school_coverage(School.objects.filter(district=district), today=TODAY)
    assert [(r.school, r.short, r.spare) for r in rows] == [(short, 300, 0), (over, 0, 70)]
    total = district_totals(rows)
    # Netted, the district would look 230 short; Short's students lack 300 devices.
    assert (total.short, total.spare) == (300, 70)
    assert (total.schools_short, total.schools_spare) == (1, 1)
    assert (total.touch_short, total.touch_spare) == (300, 0)  # factory devices: no touch
    # A total has no netted gap to show by mistake.
    assert not hasattr(total, "gap") and not hasattr(total, "touch_gap")
    assert (total.target, total.usable) == (660, 430)


def test_coverage_costs_the_same_queries_for_3_or_30_schools(district, django_assert_num_queries):
    def run():
        return school_coverage(School.objects.filter(district=district), today=TODAY)

    for _ in range(3):
        s = SchoolFactory(district=district)
        DeviceFactory.create_batch(2, school=s)
        StudentFactory(school=s, home_internet="no")
    with django_assert_num_queries(6):
        assert len(run()) == 3
    for _ in range(27):
        s = SchoolFactory(district=district)
        DeviceFactory.create_batch(3, school=s)
    with django_assert_num_queries(6):
        assert len(run()) == 30


def test_the_command_prints_json_with_the_documented_keys(maple, cedar):
    DeviceFactory.create_batch(4, school=maple)
    out = StringIO()
    call_command("device_coverage", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert [d["school"] for d in data] == ["CEDAR", "MAPLE"]
    assert set(data[1]) == {
        "school",
        "enrollment",
        "target",
        "usable",
        "gap",
        "short",
        "spare",
        "touch_target",
        "touch_usable",
        "touch_gap",
        "touch_short",
        "touch_spare",
        "no_home_internet",
        "hotspots_assigned",
        "homework_gap",
        "expiring_12m",
        "loss_rate_12m",
    }
    assert (data[1]["target"], data[1]["usable"], data[1]["gap"]) == (330, 4, 326)
    out = StringIO()
    call_command("device_coverage", "--school", "maple", "--json", stdout=out)
    assert [d["school"] for d in json.loads(out.getvalue())] == ["MAPLE"]


def test_the_command_names_an_unknown_school(db):
    with pytest.raises(CommandError, match="No school has the code NOPE"):
        call_command("device_coverage", "--school", "NOPE", "--json")
