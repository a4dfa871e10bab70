from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from initiatives import selectors
from initiatives.models import BudgetLine, Initiative
from pd.models import Attendance
from schools.scoping import access_for, activate
from tests.factories import (
    AttendanceFactory,
    BudgetLineFactory,
    InitiativeFactory,
    MilestoneFactory,
    PDSessionFactory,
    StaffMemberFactory,
)
from tests.initiatives.test_views import _rich


def test_budget_sums_by_category_and_stage(maple):
    initiative = InitiativeFactory(schools=[maple])
    other = InitiativeFactory(schools=[maple])
    for category, amount, source, stage in [
        ("devices", "1000.50", "title_i", "spent"),
        ("devices", "200", "title_i", "committed"),
        ("devices", "300", "general_fund", "planned"),
        ("pd", "450", "title_iv_a", "committed"),
        ("software", "99.50", "general_fund", "planned"),
    ]:
        BudgetLineFactory(
            initiative=initiative,
            category=category,
            amount=Decimal(amount),
            funding_source=source,
            stage=stage,
        )
    BudgetLineFactory(initiative=other, amount=Decimal("9999"), stage="spent")

    by_category = selectors.budget_by(initiative, "category")
    rows = {label: (amounts, total) for label, amounts, total in by_category.rows}
    assert list(rows) == ["Devices", "Software", "Professional development"]
    devices, devices_total = rows["Devices"]
    assert devices == {
        "planned": Decimal("300"),
        "committed": Decimal("200"),
        "spent": Decimal("1000.50"),
    }
    assert devices_total == Decimal("1500.50")
    assert by_category.by_stage == {
        "planned": Decimal("399.50"),
        "committed": Decimal("650"),
        "spent": Decimal("1000.50"),
    }
    assert by_category.total == Decimal("2050.00")

    by_source = selectors.budget_by(initiative, "funding_source")
    totals = {label: total for label, _a, total in by_source.rows}
    assert totals == {
        "General fund": Decimal("399.50"),
        "Title I": Decimal("1200.50"),
        "Title IV-A": Decimal("450"),
    }
    assert by_source.total == by_category.total
    chart = by_source.chart()
    assert chart["labels"] == ["General fund", "Title I", "Title IV-A"]
    assert chart["datasets"][2] == {"label": "Spent", "data": [0.0, 1000.5, 0.0]}
    # The initiative page sums the lines it has read: the same tables as the grouped query.
    lines = list(BudgetLine.unscoped.filter(initiative=initiative))
    assert selectors.budget_of_lines(lines, "category") == by_category
    assert selectors.budget_of_lines(lines, "funding_source") == by_source


def test_the_list_shows_budget_used_and_the_next_open_milestone(maple):
    initiative = InitiativeFactory(schools=[maple])
    today = timezone.localdate()
    MilestoneFactory(initiative=initiative, title="Done first", due_on=today, done_on=today)
    MilestoneFactory(initiative=initiative, title="Later", due_on=today + timedelta(days=40))
    MilestoneFactory(initiative=initiative, title="Next", due_on=today + timedelta(days=4))
    BudgetLineFactory(initiative=initiative, amount=Decimal("100"), stage="planned")
    BudgetLineFactory(initiative=initiative, amount=Decimal("250"), stage="committed")
    BudgetLineFactory(initiative=initiative, amount=Decimal("50"), stage="spent")
    (row,) = selectors.initiative_rows(Initiative.objects.all())
    assert row.next_milestone == "Next"
    assert row.budget_used == Decimal("300") and row.budget_total == Decimal("400")


def test_pd_reach_counts_attendees_once_per_session_and_people_once(maple):
    initiative = InitiativeFactory(schools=[maple])
    ana, ben = StaffMemberFactory(school=maple), StaffMemberFactory(school=maple)
    first = PDSessionFactory(schools=[maple], initiative=initiative, duration_minutes=90)
    second = PDSessionFactory(schools=[maple], initiative=initiative, duration_minutes=60)
    PDSessionFactory(schools=[maple])  # not linked
    AttendanceFactory(session=first, staff=ana)
    AttendanceFactory(session=first, staff=ben)
    AttendanceFactory(session=second, staff=ana)
    Attendance.objects.create(session=second, staff=ben, status="absent", hours=0)
    reach = selectors.pd_reach(initiative)
    assert [s.pk for s in reach["sessions"]] == [second.pk, first.pk]  # same day: newest first
    assert reach["people"] == 2 and reach["attendances"] == 3
    assert reach["hours"] == Decimal("4.00")  # 1.5 + 1.5 + 1


def test_the_timeline_places_milestones_between_the_first_and_last_date(maple):
    initiative = InitiativeFactory(schools=[maple])
    today = timezone.localdate()
    a = MilestoneFactory(initiative=initiative, due_on=today - timedelta(days=10))
    b = MilestoneFactory(initiative=initiative, due_on=today + timedelta(days=30))
    line = selectors.timeline([a, b], today)
    assert [i["at"] for i in line["items"]] == [0, 100]
    assert line["today"] == 25.0
    assert [i["state"] for i in line["items"]] == ["overdue", "open"]


# --- the initiative page -----------------------------------------------------------------


def _page_queries(initiative, access) -> int:
    cache.clear()  # the coverage figures are cached; count them cold
    with activate(access), CaptureQueriesContext(connection) as ctx:
        selectors.initiative_page(initiative, access)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("involves_devices", [False, True])
def test_the_initiative_page_costs_the_same_at_two_sizes(
    principal, maple, involves_devices, django_assert_num_queries
):
    access = access_for(principal)
    initiative = InitiativeFactory(schools=[maple], involves_devices=involves_devices)
    _rich(initiative, maple, 2)
    small = _page_queries(initiative, access)
    _rich(initiative, maple, 12)
    cache.clear()
    with activate(access), django_assert_num_queries(small):
        page = selectors.initiative_page(initiative, access)
    assert len(page.milestones) == len(page.lines) == len(page.surveys) == 14
    assert len(page.pd["sessions"]) == 14 and page.pd["people"] == 14
    assert page.editable and page.schools == [maple] and page.hidden_schools == 0
    assert (page.devices is not None) == involves_devices


def test_the_page_shows_only_what_the_reader_may_see(coach, principal, maple, cedar):
    initiative = InitiativeFactory(schools=[maple, cedar], involves_devices=True)
    MilestoneFactory(initiative=initiative, title="Carts arrive")
    with activate(access_for(coach)):
        page = selectors.initiative_page(initiative, access_for(coach))
    assert page.schools == [maple] and page.hidden_schools == 1
    assert not page.editable  # a coach reads
    assert page.devices == {"rows": [], "hidden": True}  # the inventory is not a coach's
    context = page.context()
    assert context["upcoming"] == page.milestones and context["active"] is False
    assert {"initiative", "history", "timeline", "source_chart"} <= set(context)


def test_a_list_names_a_partial_initiatives_schools_but_reads_none_of_a_whole_districts(
    maple, cedar
):
    whole = InitiativeFactory(schools=[maple, cedar], whole_district=True, title="A whole")
    partial = InitiativeFactory(schools=[maple, cedar], title="B partial")
    alone = InitiativeFactory(schools=[cedar], title="C alone")
    rows = {i.pk: i for i in selectors.initiative_list_page().object_list}
    assert rows[whole.pk].visible == []
    assert [s.name for s in rows[partial.pk].visible] == ["Cedar Middle", "Maple Elementary"]
    assert [s.name for s in rows[alone.pk].visible] == ["Cedar Middle"]
