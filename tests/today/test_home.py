"""Each role's home page lists what needs the person now, linked, bounded and ordered by
urgency, at the same number of queries whatever the data size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from equity.inventory import services as inventory
from equity.year.models import Charge
from equity.year.services import acceptance_for
from schools.models import Role
from tests.factories import (
    AttendanceFactory,
    BudgetLineFactory,
    ComplianceItemFactory,
    DeviceAgreementFactory,
    DeviceFactory,
    DeviceModelFactory,
    InitiativeFactory,
    LearningLeaderFactory,
    MembershipFactory,
    MilestoneFactory,
    PDNeedsPollFactory,
    PDSessionFactory,
    ReadinessSnapshotFactory,
    SchoolFactory,
    StaffMemberFactory,
    StationEventFactory,
    StudentFactory,
    SurveyFactory,
    UserFactory,
    open_assignment,
)
from today.selectors import LIMIT
from today.selectors import home as home_of


def _today():
    return timezone.localdate()


def principal_data(school, n: int) -> None:
    today = _today()
    for i in range(n):
        InitiativeFactory(schools=[school], district=school.district, status="planning")
        MilestoneFactory(
            initiative=InitiativeFactory(schools=[school], district=school.district),
            due_on=today - timedelta(days=i + 1),
        )
        SurveyFactory(schools=[school], closes_on=today + timedelta(days=i + 2))
    blocked = InitiativeFactory(schools=[school], district=school.district, status="planning")
    ComplianceItemFactory(initiative=blocked)
    BudgetLineFactory(initiative=blocked)
    ReadinessSnapshotFactory(
        school=school, overall=70, computed_at=timezone.now() - timedelta(days=9)
    )
    ReadinessSnapshotFactory(school=school, overall=55)


def coach_data(school, n: int, quiet=None) -> None:
    """Sessions, teachers and polls at ``school``; answered polls at ``quiet`` (a school of
    the coach with no session since)."""
    today = _today()
    leader = LearningLeaderFactory(staff=StaffMemberFactory(school=school))
    for i in range(n):
        StaffMemberFactory(school=school, position="teacher")
        PDSessionFactory(schools=[school], date=today + timedelta(days=i % 10))
        held = PDSessionFactory(schools=[school], date=today - timedelta(days=i + 1))
        AttendanceFactory(session=held, staff=StaffMemberFactory(school=school))
        PDSessionFactory(
            schools=[school],
            date=today + timedelta(days=20 + i),
            facilitator_staff=leader.staff,
            facilitator_user=None,
        )
        poll = PDNeedsPollFactory(
            school=quiet or school,
            opens_on=today - timedelta(days=60 + i),
            closes_on=today - timedelta(days=50 + i),
        )
        poll.responses.create(submitted_on=poll.closes_on)


def tech_data(school, n: int, by) -> None:
    today = _today()
    DeviceAgreementFactory(district=school.district)
    old = timezone.now() - timedelta(days=30)
    collection = StationEventFactory(
        school=school, kind="collection", day=today - timedelta(days=3), grades=[]
    )
    model = DeviceModelFactory(
        district=school.district, auto_update_expiration=today + timedelta(days=100)
    )
    for i in range(n):
        a = open_assignment(school, by=by, grade=school.lowest_grade)
        type(a).objects.filter(pk=a.pk).update(checked_out_at=old)
        acceptance_for(a)
        inventory.device_send_to_repair(
            device=DeviceFactory(school=school), by=by, at=timezone.now() - timedelta(days=20 + i)
        )
        inventory.device_report_missing(
            device=DeviceFactory(school=school),
            by=by,
            circumstance="left_on_transit",
            place="Bus 4",
        )
        DeviceFactory(school=school, model=model)
        StudentFactory(school=school, home_internet="no", grade=school.lowest_grade)
        Charge.objects.create(
            device=a.device, student=a.student, kind="screen", amount=45, created_at=old
        )
    StationEventFactory(school=school, kind="handout", day=today + timedelta(days=2))
    assert collection.pk


def admin_data(district, n: int) -> None:
    from readiness.models import ReadinessRun

    for _ in range(n):
        SchoolFactory(district=district)
        ReadinessRun.objects.create(
            district=district, kind="nightly", status="failed", error="boom"
        )
        invited = UserFactory()
        invited.set_unusable_password()
        invited.save()
        MembershipFactory(user=invited, district=district, school=None, role=Role.PRINCIPAL)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# --- each role's items ---------------------------------------------------------------------


def test_it_shows_the_principal_what_needs_them(login, principal, maple):
    principal_data(maple, 2)
    content = login(principal).get(reverse("today:home")).content.decode()
    for title in [
        "Readiness since last week",
        "Initiatives blocked",
        "Surveys open",
        "Milestones due in 14 days or overdue",
        "Sign-offs awaited",
        "Devices short of target",
    ]:
        assert title in content
    assert "down 15 since last week" in content
    assert "listen first" in content and "a compliance item is open" in content
    assert "overdue since" in content
    assert reverse("readiness:school", args=[maple.pk]) in content
    assert reverse("equity:coverage", args=[maple.pk]) in content
    assert "Devices short of target" in content


def _quiet_school(coach, district):
    quiet = SchoolFactory(district=district, name="Quiet Creek")
    MembershipFactory(user=coach, school=quiet, district=district, role=Role.COACH)
    return quiet


def test_it_shows_the_coach_what_needs_them(login, coach, maple, district):
    quiet = _quiet_school(coach, district)
    coach_data(maple, 2, quiet)
    content = login(coach).get(reverse("today:home")).content.decode()
    for title in [
        "Sessions this week and next",
        "Teachers with no PD or far below the target",
        "Feedback to ask for",
        "Learning Leaders&#x27; next sessions",
        "Needs-poll results not acted on",
    ]:
        assert title in content, title
    assert "no PD this year" in content
    poll = quiet.pd_polls.first()
    assert reverse("pd:poll_results", args=[poll.pk]) in content


def test_it_shows_the_tech_staff_what_needs_them(login, tech, cedar):
    tech_data(cedar, 2, tech)
    content = login(tech).get(reverse("today:home")).content.decode()
    for title in [
        "Devices not returned after collection day",
        "In repair for more than",
        "Lost this month, by circumstance",
        "Handout and collection days",
        "Auto-update expirations within 12 months",
        "Device agreements not signed",
        "Charges due",
        "Students who need a hotspot",
    ]:
        assert title in content, title
    assert "Left on public transit" in content
    assert reverse("equity:school_losses", args=[cedar.pk]) in content
    assert "needs a hotspot" in content
    assert reverse("equity:coverage", args=[cedar.pk]) in content
    assert reverse("equity:checkout", args=[cedar.pk]) in content


def test_it_shows_the_district_admin_what_needs_them(login, district_admin, district, maple, cedar):
    maple.economically_disadvantaged_pct = 30
    maple.save()
    cedar.economically_disadvantaged_pct = 80
    cedar.save()
    admin_data(district, 2)
    content = login(district_admin).get(reverse("today:home")).content.decode()
    assert content.index("Cedar Middle") < content.index("Maple Elementary")
    assert "Runs that failed this month" in content and "boom" in content
    assert "Accounts waiting for activation" in content
    assert reverse("accounts:members", args=[district.pk]) in content


def test_failed_runs_of_every_kind_reach_the_district_admin(login, district_admin, district, maple):
    """Readiness, imports, Google and roster syncs: the newest first, the total of all."""
    from equity.imports.models import ImportJob
    from googlesync.models import SyncRun
    from readiness.models import ReadinessRun
    from rostering.models import RosterRun, RosterSource

    now = timezone.now()
    source = RosterSource.objects.create(district=district, kind="oneroster-csv")
    made = [
        ReadinessRun.objects.create(district=district, kind="nightly", status="failed", error="r"),
        ImportJob.objects.create(school=maple, kind="devices", status="failed", summary="bad"),
        SyncRun.objects.create(district=district, status="failed", error="quota exhausted"),
        RosterRun.objects.create(
            district=district, source=source, trigger="nightly", status="refused", error_count=12
        ),
        RosterRun.objects.create(district=district, source=source, trigger="page", status="failed"),
    ]
    for age, row in enumerate(reversed(made)):  # the last made is the newest
        type(row).objects.filter(pk=row.pk).update(created_at=now - timedelta(hours=age))
    # A finished roster run and an old failure are not listed.
    RosterRun.objects.create(district=district, source=source, trigger="page", status="applied")
    old = SyncRun.objects.create(district=district, status="failed")
    SyncRun.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=45))

    from schools.permissions import home_sections
    from schools.scoping import access_for, activate

    access = access_for(district_admin)
    with activate(access):
        home = home_of(access, home_sections(access))
    [section] = [s for s in home.sections if s.key == f"failed-{district.pk}"]
    assert section.total == 5 and len(section.items) == LIMIT
    titles = [i.text for i in section.items]
    assert titles[:3] == [
        "Roster sync from OneRoster CSV bundle",
        "Roster sync from OneRoster CSV bundle",
        "Google Admin sync",
    ]
    assert "12 errors" in section.items[1].note
    assert section.items[0].url == made[4].get_absolute_url()
    assert section.items[2].url == reverse("googlesync:run", args=[made[2].pk])
    assert "quota exhausted" in section.items[2].note
    assert titles[3].startswith("Import of") and titles[4].startswith("Readiness")


def test_it_tells_a_user_without_a_role_how_to_get_one(login, db):
    response = login(UserFactory()).get(reverse("today:home"))
    assert b"ask them to invite you" in response.content


def test_the_home_page_shows_the_neediest_schools_and_the_list_pages_through_all(
    login, district_admin, district
):
    schools = [
        SchoolFactory(district=district, name=f"School {i:02d}", economically_disadvantaged_pct=i)
        for i in range(1, 61)
    ]
    client = login(district_admin)
    home = client.get(reverse("today:home")).content.decode()
    assert "School 60" in home and "School 51" in home and "School 50" not in home
    assert "All 60 schools, by need" in home
    first = client.get(reverse("schools:school_list"))
    assert [s.name for s in first.context["schools"]][:2] == ["School 60", "School 59"]
    second = client.get(reverse("schools:school_list"), {"page": 2})
    assert len(first.context["schools"]) + len(second.context["schools"]) == len(schools)


# --- bounded, ordered, and at a constant number of queries ----------------------------------


def test_each_list_is_bounded_and_the_most_urgent_comes_first(principal, maple):
    from schools.permissions import home_sections
    from schools.scoping import access_for, activate

    principal_data(maple, LIMIT + 3)
    access = access_for(principal)
    with activate(access):
        home = home_of(access, home_sections(access))
    by_key = {s.key: s for s in home.principal}
    milestones = by_key["milestones"]
    assert len(milestones.items) == LIMIT and milestones.total == LIMIT + 3
    assert milestones.more == 3
    dates = [i.when for i in milestones.items]
    assert dates == sorted(dates)  # the longest overdue first
    surveys = by_key["surveys"].items
    assert [i.when for i in surveys] == sorted(i.when for i in surveys)  # closing soonest


@pytest.mark.parametrize("role", ["principal", "coach", "tech", "district_admin"])
def test_each_home_costs_the_same_queries_at_two_sizes(
    role, request, login, maple, cedar, district, django_assert_num_queries
):
    user = request.getfixturevalue(role)
    school = cedar if role == "tech" else maple

    def grow(n):
        if role == "principal":
            principal_data(school, n)
        elif role == "coach":
            coach_data(school, n, quiet)
        elif role == "tech":
            tech_data(school, n, user)
        else:
            admin_data(district, n)

    quiet = _quiet_school(user, district) if role == "coach" else None
    client = login(user)
    url = reverse("today:home")
    grow(1)
    small = _queries(client, url)
    grow(LIMIT + 4)
    with django_assert_num_queries(small):
        assert client.get(url).status_code == 200
