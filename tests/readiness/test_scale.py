"""The district job at scale keeps its shape: the figures it reads for itself equal the
definitions of the apps that own them, its query count does not depend on the number of
schools, and it writes its snapshots in one INSERT."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from equity.inventory.models import Assignment
from readiness import services
from readiness.indicators import Context, shown_rates
from readiness.models import IndicatorTarget, RunKind, Snapshot
from schools.models import School
from stakeholders.models import Answer, Invitation
from stakeholders.selectors import headline_results
from tests.factories import (
    DeviceFactory,
    DeviceModelFactory,
    QuestionFactory,
    ResponseFactory,
    StudentFactory,
)

from .helpers import survey
from .test_indicators import read
from .test_jobs import _district_with

pytestmark = pytest.mark.django_db


def test_home_connectivity_and_touch_needs_come_from_one_student_query(maple, cedar):
    hotspot = DeviceModelFactory(district=maple.district, kind="hotspot")
    offline = StudentFactory(school=maple, home_internet="no")
    StudentFactory(school=maple, home_internet="yes", grade=4, needs_touch=True)
    Assignment.objects.create(
        device=DeviceFactory(school=maple, model=hotspot, status="assigned"),
        student=offline,
        is_hotspot=True,
        checked_out_at=timezone.now(),
    )
    ctx = Context(today=timezone.localdate())
    from readiness.indicators import REGISTRY

    with CaptureQueriesContext(connection) as queries:
        for key in ("touch_coverage", "home_connectivity"):
            REGISTRY[key].compute([maple, cedar], ctx)
    students = [q for q in queries.captured_queries if '"equity_student"' in q["sql"]]
    assert len(students) == 1
    assert ctx.memo["students"][maple.pk] == {"touch_beyond_k2": 1, "connected": 2, "known": 2}


def _answers(item, audience, n):
    question = QuestionFactory(survey=item)
    for _ in range(n):
        response = ResponseFactory(survey=item, audience=audience)
        Answer.objects.create(response=response, question=question, likert=4)


def test_shown_rates_follow_the_results_pages_headline_rule(maple, cedar):
    shown = survey([maple])
    Invitation.objects.create(survey=shown, audience="teachers", expected=20)
    _answers(shown, "teachers", 6)
    hidden = survey([maple])  # under the minimum group
    Invitation.objects.create(survey=hidden, audience="teachers", expected=20)
    _answers(hidden, "teachers", 3)
    unknown = survey([maple, cedar])  # an answering audience without an expected number
    Invitation.objects.create(survey=unknown, audience="teachers", expected=20)
    Invitation.objects.create(survey=unknown, audience="families")
    _answers(unknown, "teachers", 5)
    _answers(unknown, "families", 2)
    people = survey([cedar])  # personal links count one each
    for i in range(6):
        Invitation.objects.create(
            survey=people, audience="families", kind="person", email=f"p{i}@example.org"
        )
    _answers(people, "families", 5)
    silent = survey([cedar])  # nobody answered
    Invitation.objects.create(survey=silent, audience="students", expected=30)
    ids = [shown.pk, hidden.pk, unknown.pk, people.pk, silent.pk]
    headlines = headline_results(ids)
    expected = {
        sid: (h["responses"], h["expected"])
        for sid, h in headlines.items()
        if h["rate"] is not None
    }
    assert shown_rates(ids) == expected == {shown.pk: (6, 20), people.pk: (5, 6)}


def test_the_district_job_costs_the_same_queries_when_nothing_or_everything_changed():
    small, large = _district_with(2), _district_with(12)
    counts = {}
    for district in (small, large):
        first = _capture(district)  # every school new
        steady = _capture(district)  # nothing changed
        IndicatorTarget.objects.create(district=district, indicator="partnerships_active", target=4)
        changed = _capture(district)  # every school changed
        counts[district.pk] = (first[0], steady[0], changed[0])
        assert first[1].snapshots_stored == district.schools.count()
        assert steady[1].snapshots_stored == 0
        assert steady[1].schools_unchanged == district.schools.count()
        assert changed[1].snapshots_stored == district.schools.count()
        # One statement for all the district's snapshots (a COPY on PostgreSQL, which the
        # query log does not see; one executemany elsewhere); no read of their indicators.
        for queries in (first[2], changed[2]):
            inserts = [q for q in queries if 'INSERT INTO "readiness_snapshot"' in q]
            assert len(inserts) == (0 if connection.vendor == "postgresql" else 1)
        reads = [q for q in steady[2] if q.startswith("SELECT") and '"indicators"' in q]
        assert reads == []
    assert counts[small.pk] == counts[large.pk]


def _capture(district):
    with CaptureQueriesContext(connection) as queries:
        run = services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    return len(queries), run, [q["sql"] for q in queries.captured_queries]


def test_stored_snapshots_equal_the_direct_computation_and_stay_latest():
    """What the run stores (by COPY on PostgreSQL) is exactly ``compute()``'s result for
    every school, reads back with the same fingerprint (a second run changes nothing), and
    a changed school's new snapshot is its latest."""
    district = _district_with(3)
    schools = School.objects.filter(district=district).order_by("pk")
    first = services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    direct = {r.school.pk: r for r in services.compute(schools)}
    stored = {s.school_id: s for s in Snapshot.objects.filter(run=first)}
    assert set(stored) == set(direct) and len(direct) == 3
    for school_id, result in direct.items():
        snapshot = stored[school_id]
        assert snapshot.indicators == [i.as_json() for i in result.indicators]
        assert (snapshot.pillars, snapshot.overall) == (result.pillars, result.overall)
        assert snapshot.fingerprint == result.fingerprint
        assert snapshot.computed_at == snapshot.confirmed_at
    again = services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    assert (again.snapshots_stored, again.schools_unchanged) == (0, 3)
    IndicatorTarget.objects.create(district=district, indicator="partnerships_active", target=4)
    changed = services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    assert changed.snapshots_stored == 3
    latest = services.latest_snapshots([s.pk for s in schools])
    assert {s.run_id for s in latest.values()} == {changed.pk}
    assert {s.school_id: s.fingerprint for s in latest.values()} == {
        r.school.pk: r.fingerprint for r in services.compute(schools)
    }


def test_unchanged_schools_only_move_their_confirmation():
    district = _district_with(2)
    first = services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    before = {s.school_id: s.confirmed_at for s in Snapshot.objects.filter(run=first)}
    second = services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    latest = Snapshot.objects.filter(school__district=district)
    assert latest.count() == 2 and not Snapshot.objects.filter(run=second).exists()
    assert all(s.confirmed_at > before[s.school_id] for s in latest)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the floor is PostgreSQL's SQL")
def test_the_benchmarks_floor_equals_the_job_for_every_school():
    from bench.readiness import _check, floor
    from schools.scoping import scopes_disabled

    district = _district_with(3)
    services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    with scopes_disabled():
        for per_table in (False, True):
            results = floor(district.pk, timezone.localdate(), per_table=per_table)
            assert _check(district.pk, results) == 3


def test_pd_hours_met_follows_pds_staff_hours_rule(maple, cedar):
    from decimal import Decimal

    from pd.selectors import Period, staff_hours
    from schools.models import Position, StaffMember
    from tests.factories import AttendanceFactory, PDSessionFactory, StaffMemberFactory

    maple.district.pd_hour_target = Decimal("7.5")
    maple.district.save()
    today = timezone.localdate()
    long = PDSessionFactory(schools=[maple, cedar], duration_minutes=300)
    short = PDSessionFactory(schools=[maple, cedar], duration_minutes=150, job_embedded=True)
    old = PDSessionFactory(schools=[maple], date=today - timedelta(days=365), duration_minutes=600)
    for school in (maple, cedar):
        at, below, edge, none = StaffMemberFactory.create_batch(4, school=school)
        for staff in (at, edge):
            AttendanceFactory(session=long, staff=staff)
            AttendanceFactory(session=short, staff=staff)
        AttendanceFactory(session=short, staff=below)
        AttendanceFactory(session=old, staff=below)  # a day outside the 12 months
        AttendanceFactory(session=long, staff=none, status="absent")
        counselor = StaffMemberFactory(school=school, position=Position.COUNSELOR)
        AttendanceFactory(session=long, staff=counselor)
        AttendanceFactory(session=short, staff=counselor)
        left = StaffMemberFactory(school=school, active=False)
        AttendanceFactory(session=long, staff=left)
        AttendanceFactory(session=short, staff=left)
    pd_rows = staff_hours(
        StaffMember.objects.filter(school__in=[maple, cedar]), Period.last_year(today)
    )
    expected = {}
    for row in pd_rows:
        if row.position in {"teacher", "special_education", "librarian"}:
            met, teaching = expected.get(row.school_id, (0, 0))
            expected[row.school_id] = (met + (0 if row.below_target else 1), teaching + 1)
    readings = read("pd_hours_met", maple, cedar)
    for school in (maple, cedar):
        met, teaching = expected[school.pk]
        assert (met, teaching) == (2, 4)
        assert readings[school.pk].value == pytest.approx(met / teaching)
        assert readings[school.pk].evidence == teaching
    # Job-embedded hours count every staff member's attendance (the one who left too).
    embedded = read("pd_job_embedded", maple)[maple.pk]
    assert embedded.value == pytest.approx((5 * 2.5) / (4 * 7.5 + 2.5))
    assert embedded.evidence == 9


def _jit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="JIT is PostgreSQL's")
def test_a_run_reads_its_figures_with_jit_off_and_leaves_the_setting_as_it_was(monkeypatch):
    district = _district_with(1)
    before, seen, real = _jit(), [], services.compute

    def spy(*args, **kwargs):
        seen.append(_jit())
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "compute", spy)
    services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    assert seen == ["off"]
    assert _jit() == before


def test_the_school_lists_read_scores_without_the_indicators_json(
    client, district_admin, district, maple, cedar
):
    from django.urls import reverse

    services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    client.force_login(district_admin)
    for url in (reverse("readiness:district", args=[district.pk]), reverse("readiness:index")):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200 and b"Maple Elementary" in response.content
        snapshots = [q["sql"] for q in queries.captured_queries if "readiness_snapshot" in q["sql"]]
        assert snapshots and all('"indicators"' not in sql for sql in snapshots)
