"""The readiness pages: content, scope, recompute, failures and constant query counts."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from readiness import services
from readiness.models import ReadinessRun, RunKind, RunStatus, Snapshot
from schools.models import Role, School
from schools.pillars import Pillar
from tests.factories import (
    MembershipFactory,
    ReadinessSnapshotFactory,
    SchoolFactory,
    StaffMemberFactory,
    StudentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _compute(school, **kw):
    return services.run_now(
        district_id=school.district_id, school_id=school.pk, kind=RunKind.COMMAND, **kw
    )


def _radar(response):
    found = re.search(
        rb'<script id="readiness-radar-data" type="application/json">(.*?)</script>',
        response.content,
    )
    return json.loads(found.group(1))


def test_the_principal_sees_scores_indicators_no_evidence_and_actions(login, principal, maple):
    StudentFactory.create_batch(3, school=maple, home_internet="no")
    StudentFactory(school=maple, home_internet="yes")
    _compute(maple)
    response = login(principal).get(reverse("readiness:school", args=[maple.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    radar = _radar(response)
    assert radar["keys"] == list(Pillar.values) and len(radar["labels"]) == 7
    snapshot = Snapshot.objects.get(school=maple)
    assert radar["scores"] == [snapshot.pillars[k] for k in Pillar.values]
    assert "Students connected at home" in html and "25%" in html
    assert "no evidence" in html  # e.g. branding, with nothing recorded
    assert "lend a hotspot" in html  # the suggested action of a low indicator
    assert reverse("equity:coverage", args=[maple.pk]) in html  # link to the records
    assert "This is the first computation" in html


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.COACH, Role.TECH_STAFF])
def test_every_records_link_opens_for_the_reader(login, maple, role):
    reader = UserFactory()
    MembershipFactory(user=reader, school=maple, district=maple.district, role=role)
    StudentFactory(school=maple, home_internet="no")
    _compute(maple)
    client = login(reader)
    html = client.get(reverse("readiness:school", args=[maple.pk])).content.decode()
    links = re.findall(r'<a href="([^"]+)">See the records', html)
    assert links, "every role sees some of the records"
    for link in set(links):
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link
    coverage = reverse("equity:coverage", args=[maple.pk])
    pd_reports = reverse("pd:reports")
    assert (coverage in links) == (role != Role.COACH)
    assert any(link.startswith(pd_reports) for link in links) == (role != Role.TECH_STAFF)


def test_what_changed_lists_moves_since_the_previous_snapshot(login, principal, maple):
    StudentFactory(school=maple, home_internet="no")
    _compute(maple, as_of=timezone.localdate() - timedelta(days=7))
    StudentFactory.create_batch(3, school=maple, home_internet="yes")
    _compute(maple)
    html = login(principal).get(reverse("readiness:school", args=[maple.pk])).content.decode()
    assert "Students connected at home: 0% → 75%" in html
    assert "Overall score over time" in html and "readiness-trend-data" in html


def test_a_school_without_snapshots_says_so(login, principal, maple):
    html = login(principal).get(reverse("readiness:school", args=[maple.pk])).content.decode()
    assert "no readiness scores for this school yet" in html


def test_a_principal_never_sees_another_schools_readiness(login, principal, maple, cedar):
    _compute(cedar)
    client = login(principal)
    assert client.get(reverse("readiness:school", args=[cedar.pk])).status_code == 404
    assert client.post(reverse("readiness:school_recompute", args=[cedar.pk])).status_code == 404
    index = client.get(reverse("readiness:index")).content.decode()
    assert maple.name in index and cedar.name not in index
    district = client.get(reverse("readiness:district", args=[maple.district_id]))
    assert district.status_code == 403


def test_recompute_now_runs_for_the_school_and_refuses_a_coach(
    login, principal, coach, maple, django_capture_on_commit_callbacks
):
    url = reverse("readiness:school_recompute", args=[maple.pk])
    assert login(coach).post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = login(principal).post(url)
    assert response.status_code == 302
    run = ReadinessRun.objects.get(kind=RunKind.MANUAL)
    assert (run.school, run.status, run.requested_by) == (maple, RunStatus.DONE, principal)
    assert Snapshot.objects.filter(school=maple).count() == 1


def test_a_pending_run_is_polled_and_its_end_refreshes_the_page(login, principal, maple):
    run = ReadinessRun.objects.create(district=maple.district, school=maple, kind=RunKind.MANUAL)
    client = login(principal)
    page = client.get(reverse("readiness:school", args=[maple.pk])).content.decode()
    status_url = reverse("readiness:school_status", args=[maple.pk])
    assert f'hx-get="{status_url}?run={run.pk}"' in page
    assert "Recompute now</button>" in page and "disabled" in page
    # A second request while one is pending queues nothing new.
    client.post(reverse("readiness:school_recompute", args=[maple.pk]))
    assert ReadinessRun.objects.count() == 1
    polled = client.get(f"{status_url}?run={run.pk}", headers={"HX-Request": "true"})
    assert "HX-Refresh" not in polled and b"hx-get" in polled.content
    services.execute_run(run.pk)
    done = client.get(f"{status_url}?run={run.pk}", headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_a_failed_run_shows_on_the_pages(login, principal, district_admin, maple):
    ReadinessRun.objects.create(
        district=maple.district,
        kind=RunKind.NIGHTLY,
        status=RunStatus.FAILED,
        error="The computation took longer than its time limit and was stopped.",
    )
    page = login(principal).get(reverse("readiness:school", args=[maple.pk])).content.decode()
    assert "The last computation failed" in page and "time limit" in page
    page = login(district_admin).get(reverse("readiness:district", args=[maple.district_id]))
    assert b"The last district computation failed" in page.content


def test_the_district_heat_map_sorts_by_pillar_and_filters_by_need(
    login, district_admin, district, maple, cedar
):
    maple.economically_disadvantaged_pct = 80
    maple.save()
    cedar.economically_disadvantaged_pct = 20
    cedar.save()
    StudentFactory.create_batch(2, school=maple, home_internet="no")
    StudentFactory.create_batch(2, school=cedar, home_internet="yes")
    services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    client = login(district_admin)
    url = reverse("readiness:district", args=[district.pk])

    def order(query):
        html = client.get(url + query).content.decode()
        body = html[html.index("<tbody>") :]
        return re.findall(r">([A-Z][a-z]+ [A-Z][a-z]+)</a></th>", body)

    assert order("?sort=spaces") == ["Maple Elementary", "Cedar Middle"]  # weakest first
    assert order("?sort=spaces&order=desc") == ["Cedar Middle", "Maple Elementary"]
    assert order("?sort=spaces&need_min=50") == ["Maple Elementary"]
    # A school without a score comes last, whichever the direction.
    SchoolFactory(district=district, name="Birch Academy")
    assert order("?sort=spaces")[-1] == order("?sort=spaces&order=desc")[-1] == "Birch Academy"
    assert order("?sort=overall")[-1] == "Birch Academy"
    assert order("?sort=name") == ["Birch Academy", "Cedar Middle", "Maple Elementary"]
    assert order("?sort=name&order=desc") == ["Maple Elementary", "Cedar Middle", "Birch Academy"]
    bad = client.get(url + "?need_min=150").content.decode()
    assert "aria-invalid" in bad and "id_need_min-error" in bad


def _snapshots(school, n):
    for i in range(n):
        ReadinessSnapshotFactory(
            school=school, computed_at=timezone.now() - timedelta(days=7 * (n - i)), overall=40 + i
        )


def test_the_school_page_costs_the_same_queries_with_more_history(
    login, principal, maple, django_assert_num_queries
):
    client = login(principal)
    url = reverse("readiness:school", args=[maple.pk])
    _snapshots(maple, 2)
    _compute(maple)
    client.get(url)
    # session, user, access ×2, school, snapshots ×2, run
    with django_assert_num_queries(8):
        assert client.get(url).status_code == 200
    _snapshots(maple, 20)
    StaffMemberFactory.create_batch(5, school=maple)
    _compute(maple)
    with django_assert_num_queries(8):
        assert client.get(url).status_code == 200


def test_the_district_page_costs_the_same_queries_with_more_schools(
    login, district_admin, district, maple, django_assert_num_queries
):
    client = login(district_admin)
    url = reverse("readiness:district", args=[district.pk])
    services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    client.get(url)
    # session, user, access (one: a district-wide membership no longer lists the
    # district's schools), district, schools counted, one page of schools in the database's
    # order, their snapshots, trend runs, last run
    with django_assert_num_queries(9) as first:
        assert client.get(url + "?sort=spaces").status_code == 200
    for _ in range(12):
        SchoolFactory(district=district)
    services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.get(url + "?sort=spaces")
    assert response.content.count(b'<th scope="row" class="fw-normal">') == 13


def test_the_district_heat_map_sorts_every_school_and_draws_one_page(
    login, district_admin, district, maple, cedar
):
    import re
    from decimal import Decimal

    from readiness.models import Snapshot

    for i in range(53):
        SchoolFactory(district=district, economically_disadvantaged_pct=Decimal(i + 20))
    School.objects.filter(pk__in=[maple.pk, cedar.pk]).update(
        economically_disadvantaged_pct=Decimal("50.5")
    )
    services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    need = dict(School.objects.values_list("pk", "economically_disadvantaged_pct"))
    client = login(district_admin)
    url = reverse("readiness:district", args=[district.pk])

    def school_ids(html):
        return [int(pk) for pk in re.findall(r'href="/readiness/schools/(\d+)/"', html)]

    first = client.get(url + "?sort=need&order=desc").content.decode()
    assert "55 schools (page 1 of 2)" in first
    assert "?sort=need&amp;order=desc&amp;page=2" in first
    second = client.get(url + "?sort=need&order=desc&page=2").content.decode()
    shown = school_ids(first) + school_ids(second)
    assert (len(school_ids(first)), len(school_ids(second))) == (50, 5)
    # Every school once, in one order across both pages: the highest need first.
    assert sorted(shown) == sorted(need)
    assert [need[pk] for pk in shown] == sorted((need[pk] for pk in shown), reverse=True)
    assert Snapshot.objects.count() >= 55


def test_the_index_costs_the_same_queries_with_more_schools(
    client, district, maple, django_assert_num_queries
):
    user = UserFactory()
    MembershipFactory(user=user, school=None, district=district, role=Role.DISTRICT_ADMIN)
    client.force_login(user)
    url = reverse("readiness:index")
    client.get(url)
    # session, user, access (one: a district-wide membership no longer lists the
    # district's schools), school count, districts, one page of schools, snapshots
    with django_assert_num_queries(7) as first:
        client.get(url)
    for _ in range(10):
        SchoolFactory(district=district)
    services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)


def _target_data(**changes):
    from readiness.indicators import REGISTRY

    data = {}
    for key, spec in REGISTRY.items():
        data[f"{key}__target"] = spec.target
        data[f"{key}__weight"] = spec.weight
    data.update(changes)
    return data


def test_a_district_admin_sets_targets_and_only_differences_are_stored(
    login, district_admin, district
):
    from readiness.models import IndicatorTarget

    url = reverse("readiness:targets", args=[district.pk])
    client = login(district_admin)
    assert client.get(url).status_code == 200
    response = client.post(url, _target_data(home_connectivity__target=0.9, pd_feedback__weight=2))
    assert response.status_code == 302
    rows = {t.indicator: (t.target, t.weight) for t in IndicatorTarget.objects.all()}
    assert rows == {"home_connectivity": (0.9, None), "pd_feedback": (4.0, 2.0)}
    assert services.targets_for([district.pk])[district.pk]["pd_feedback"] == (4.0, 2.0)


def test_a_target_out_of_range_is_refused_on_its_field_and_nothing_is_saved(
    login, district_admin, district, principal
):
    from readiness.models import IndicatorTarget

    url = reverse("readiness:targets", args=[district.pk])
    response = login(district_admin).post(
        url, _target_data(home_connectivity__target=0.8, pd_feedback__target=9)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_pd_feedback__target-error"' in html and "at most 5" in html
    assert not IndicatorTarget.objects.exists()
    assert login(principal).get(url).status_code == 403
