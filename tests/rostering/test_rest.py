"""The OneRoster REST API and the Ed-Fi ODS/API on loopback: tokens, paging, faults, deltas,
the equity indicators; a district set up from a bundle and kept in step by both."""

import pytest

from equity.inventory.models import Student
from rostering import client
from rostering.models import RosterRun, RosterSource, RunStatus, SourceKind, StudentConnectivity
from schools.models import StaffMember

from .roster_data import base_roster, bundle
from .servers import CLIENT, Faults, serve_edfi, serve_oneroster

CODES = {"MAPLE": "255901001", "CEDAR": "255901044"}


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch):
    monkeypatch.setattr(client, "BACKOFF", 0.01)
    monkeypatch.setattr(client.RestClient.__init__, "__kwdefaults__", {
        "sleep": client.time.sleep, "backoff": 0.01})  # fmt: skip


def _source(district, httpserver, kind, base):
    source = RosterSource(
        district=district,
        kind=kind,
        base_url=httpserver.url_for(base),
        token_url=httpserver.url_for("/oauth/token"),
        client_id=CLIENT[0],
        student_key="identifier",
        touch_codes="504",
    )
    source.set_secret(CLIENT[1])
    source.save()
    return source


@pytest.fixture
def oneroster_api(district, httpserver):
    return _source(district, httpserver, SourceKind.ONEROSTER_API, "/ims/oneroster/v1p1")


@pytest.fixture
def edfi(district, httpserver, maple, cedar):
    maple.code, cedar.code = CODES["MAPLE"], CODES["CEDAR"]
    maple.save()
    cedar.save()
    return _source(district, httpserver, SourceKind.EDFI, "/data/v3/ed-fi")


def test_oneroster_api_pages_through_every_user(sync, oneroster_api, httpserver, monkeypatch):
    monkeypatch.setattr("rostering.oneroster.PAGE", 2)
    faults = serve_oneroster(httpserver, base_roster())
    code, out, _err = sync("oneroster-api", apply=True)
    assert code == 0, out["errors"]
    assert out["students_created"] == 5 and out["staff_created"] == 3
    offsets = [q for q in faults.log if q.startswith("users")]
    assert offsets == [f"users?limit=2&offset={n}" for n in (0, 2, 4, 6, 8)]
    assert Student.objects.count() == 5


def test_401_429_500_and_a_cut_page_are_retried(sync, oneroster_api, httpserver):
    faults = Faults()
    faults.queue["users"] = [401, 429, 500, "cut"]
    serve_oneroster(httpserver, base_roster(), faults)
    code, out, _err = sync("oneroster-api", apply=True)
    assert code == 0, out["errors"]
    assert out["students_created"] == 5
    assert len([q for q in faults.log if q.startswith("users")]) == 5


def test_a_server_that_keeps_failing_stops_the_run_and_applies_nothing(
    sync, oneroster_api, httpserver, monkeypatch
):
    monkeypatch.setattr("rostering.oneroster.PAGE", 2)
    faults = Faults()
    serve_oneroster(httpserver, base_roster(), faults)
    # The first pages arrive, then the server fails on every request for the next one.
    original = faults.next
    calls = []

    def failing_after_two(path):
        if path == "users":
            calls.append(1)
            if len(calls) > 2:
                return 500
        return original(path)

    faults.next = failing_after_two
    code, out, err = sync("oneroster-api", apply=True)
    assert code == 1
    assert out["errors"] == ["users (offset 4): answered HTTP 500 5 times"]
    assert "nothing was written" in err.lower()
    assert not Student.objects.exists() and not StaffMember.objects.exists()
    run = RosterRun.objects.get()
    assert run.status == RunStatus.FAILED and run.errors == out["errors"]


def test_a_page_cut_short_of_its_announced_total_stops_the_run(sync, oneroster_api, httpserver):
    faults = Faults()
    faults.always["users"] = "short"
    serve_oneroster(httpserver, base_roster(), faults)
    code, out, _err = sync("oneroster-api", apply=True)
    assert code == 1
    assert out["errors"] == ["users: the server announced 9 records and sent 8 (a page cut short)"]
    assert not Student.objects.exists()


def test_a_wrong_secret_is_refused_with_the_token_url(sync, oneroster_api, httpserver):
    oneroster_api.set_secret("wrong")
    oneroster_api.save()
    serve_oneroster(httpserver, base_roster())
    code, out, _err = sync("oneroster-api", apply=True)
    assert code == 1
    assert out["errors"][0].startswith("token: http://")
    assert "HTTP 401" in out["errors"][0]


def test_the_nightly_run_asks_only_for_changes(oneroster_api, httpserver, district):
    from rostering import services
    from rostering.models import RunTrigger

    faults = serve_oneroster(httpserver, base_roster())
    run = services.run_create(source=oneroster_api, trigger=RunTrigger.PAGE, apply=True)
    services.run_execute(run.pk)
    oneroster_api.refresh_from_db()
    assert oneroster_api.delta_since is not None
    faults.log.clear()
    run = services.run_create(source=oneroster_api, trigger=RunTrigger.NIGHTLY, apply=True)
    out = services.run_execute(run.pk)
    users = [q for q in faults.log if q.startswith("users")]
    assert "filter=dateLastModified" in users[0]
    assert out.delta and out.students_left == 0


def test_edfi_reads_associations_and_equity_indicators(sync, edfi, httpserver, maple, cedar):
    serve_edfi(httpserver, base_roster())
    code, out, _err = sync("edfi", apply=True)
    assert code == 0, out["errors"]
    assert out["schools_matched"] == 2
    assert out["schools_unmatched"] == ["Oak Ridge High (255901107)"]
    assert (out["students_created"], out["staff_created"]) == (5, 3)
    s = {x.local_id: x for x in Student.objects.all()}
    assert (s["1001"].home_internet, s["1002"].home_internet, s["1003"].home_internet) == (
        "yes", "no", "unknown"
    )  # fmt: skip
    assert s["1001"].needs_touch and not s["1004"].needs_touch
    conn = {c.student.local_id: c for c in StudentConnectivity.objects.select_related("student")}
    assert conn["1001"].access_type == "ResidentialBroadband"
    assert conn["1002"].barrier == "Cost"
    assert StaffMember.objects.get(email="alan@riverbend.example.org").position == "administrator"
    code, again, _err = sync("edfi", apply=True)
    assert (again["students_updated"], again["connectivity_changed"]) == (0, 0)


def test_edfi_exit_marks_the_student_left_with_its_reason(sync, edfi, httpserver):
    serve_edfi(httpserver, base_roster())
    sync("edfi", apply=True)
    serve_edfi(httpserver, base_roster().changed("1005", status="tobedeleted"))
    code, out, _err = sync("edfi", apply=True)
    assert out["students_left"] == 1
    gone = Student.objects.get(local_id="1005")
    assert not gone.active and gone.leave_reason == "graduated"


def test_set_up_from_a_bundle_then_kept_in_step_by_both_apis(
    sync, district, httpserver, maple, cedar
):
    """The issue's "done when": a bundle first, then the OneRoster API and Ed-Fi."""
    maple.code, cedar.code = CODES["MAPLE"], CODES["CEDAR"]
    maple.save()
    cedar.save()
    RosterSource.objects.create(district=district, kind=SourceKind.ONEROSTER_CSV,
                                student_key="identifier")  # fmt: skip
    roster = base_roster().with_codes(CODES)
    assert sync(data=bundle(roster), apply=True)[0] == 0
    _source(district, httpserver, SourceKind.ONEROSTER_API, "/ims/oneroster/v1p1")
    moved = roster.changed("1003", grade="05").without("1002")
    serve_oneroster(httpserver, moved)
    code, out, _err = sync("oneroster-api", apply=True)
    # 1003 moved up a grade; 1001 needs touch now (this source maps program 504).
    assert (out["students_updated"], out["students_left"]) == (2, 1)
    _source(district, httpserver, SourceKind.EDFI, "/data/v3/ed-fi")
    serve_edfi(httpserver, moved)
    code, out, _err = sync("edfi", apply=True)
    assert code == 0, out["errors"]
    assert out["students_created"] == 0 and out["students_left"] == 0
    assert out["students_updated"] == 2  # home internet learned for 1001 and 1004
    maple.refresh_from_db()
    assert (maple.enrollment_pk_2, maple.enrollment_3_5) == (1, 1)
    assert maple.device_target() == 3
    # The homework gap reads home internet: 1004 (yes), 1001 (yes), the rest unknown.
    assert Student.objects.filter(active=True, home_internet="yes").count() == 2


def test_edfi_an_association_of_a_student_not_in_students_is_an_error(sync, edfi, httpserver):
    serve_edfi(httpserver, base_roster(), unlisted=("1003",))
    code, out, _err = sync("edfi", apply=True)
    assert code == 1
    assert out["errors"] == ["studentSchoolAssociations id ssa2: student 1003 is not in /students"]
    assert not Student.objects.exists()


# --- Ed-Fi Change Queries: the nightly run reads only what changed ------------------------


def _edfi_run(source, trigger):
    from rostering import services

    run = services.run_create(source=source, trigger=trigger, apply=True)
    out = services.run_execute(run.pk)
    source.refresh_from_db()
    return out


def _grown(roster):
    """The roster with a new student at Maple (appended, so the others keep their ids)."""
    from dataclasses import replace

    kid = replace(roster.kids[2], sourced_id="u-7", number="1007", given="Percival")
    return type(roster)(roster.schools, [*roster.kids, kid], roster.adults)


def test_edfi_nightly_reads_the_changes_and_deletes_since_the_last_version(edfi, httpserver):
    from rostering.models import RunTrigger

    faults = serve_edfi(httpserver, base_roster(), newest=100)
    out = _edfi_run(edfi, RunTrigger.PAGE)
    assert out.applied and not out.delta and edfi.change_version == 100
    ssa = [q for q in faults.log if q.startswith("studentSchoolAssociations?")]
    assert "ChangeVersion" not in ssa[0]  # a first run reads everything

    # On the server: 1003 moves up a grade, 1007 arrives, 1005's enrolment is deleted.
    now = _grown(base_roster().changed("1003", grade="05"))
    gone = {"studentSchoolAssociations": [
        {"studentUniqueId": "1005", "schoolId": int(CODES["CEDAR"]), "entryDate": "2026-08-15"}
    ]}  # fmt: skip
    faults = serve_edfi(httpserver, now, newest=130, previous=base_roster(), deletes=gone)
    out = _edfi_run(edfi, RunTrigger.NIGHTLY)
    assert out.applied and out.delta, out.all_errors()
    for resource in ("studentSchoolAssociations?", "studentSchoolAssociations/deletes?",
                     "students/deletes?", "studentEducationOrganizationAssociations?"):  # fmt: skip
        asked = [q for q in faults.log if q.startswith(resource)]
        assert asked and "minChangeVersion=101&maxChangeVersion=130" in asked[0], resource
    assert (out.students_created, out.students_updated, out.students_left) == (1, 1, 1)
    assert out.staff_left == 0  # staff are read whole: nobody is gone
    s = {x.local_id: x for x in Student.objects.all()}
    assert s["1003"].grade == 5 and s["1007"].active
    assert not s["1005"].active and s["1005"].leave_reason == "withdrawn"
    assert s["1001"].active and s["1002"].active and s["1004"].active  # not in the delta
    assert edfi.change_version == 130

    # Nothing changed since: the next night writes nothing.
    serve_edfi(httpserver, now, newest=130, previous=now)
    stamps = dict(Student.objects.values_list("local_id", "updated_at"))
    out = _edfi_run(edfi, RunTrigger.NIGHTLY)
    assert out.applied and out.delta
    assert (out.students_created, out.students_updated, out.students_left) == (0, 0, 0)
    assert dict(Student.objects.values_list("local_id", "updated_at")) == stamps


def test_edfi_an_error_mid_delta_applies_nothing_and_keeps_the_version(edfi, httpserver):
    from rostering.models import RunTrigger

    serve_edfi(httpserver, base_roster(), newest=100)
    _edfi_run(edfi, RunTrigger.PAGE)
    changed = base_roster().changed("1004", grade="07")
    gone = {"students": [{"studentUniqueId": "1002"}]}
    faults = serve_edfi(httpserver, changed, newest=140, previous=base_roster(), deletes=gone)
    faults.always["students/deletes"] = 500  # after the associations were read
    out = _edfi_run(edfi, RunTrigger.NIGHTLY)
    assert not out.applied and "students/deletes" in out.fatal
    assert edfi.change_version == 100
    s = {x.local_id: x for x in Student.objects.all()}
    assert s["1004"].grade == 6 and s["1002"].active
    # The next night asks for the same window again and catches up.
    serve_edfi(httpserver, changed, newest=140, previous=base_roster(), deletes=gone)
    out = _edfi_run(edfi, RunTrigger.NIGHTLY)
    assert out.applied and (out.students_updated, out.students_left) == (1, 1)
    assert edfi.change_version == 140
    assert not Student.objects.get(local_id="1002").active


def test_edfi_reads_everything_without_change_queries_or_after_a_gap(edfi, httpserver):
    from rostering.models import RunTrigger

    serve_edfi(httpserver, base_roster(), change_queries=False)
    out = _edfi_run(edfi, RunTrigger.PAGE)
    assert out.applied and edfi.change_version is None
    out = _edfi_run(edfi, RunTrigger.NIGHTLY)
    assert not out.delta and "no Change Queries" in " ".join(out.notes)
    serve_edfi(httpserver, base_roster(), newest=100)
    _edfi_run(edfi, RunTrigger.NIGHTLY)
    assert edfi.change_version == 100
    # The server purged its change history past our version: a full read, not a delta.
    serve_edfi(httpserver, base_roster(), oldest=500, newest=600)
    out = _edfi_run(edfi, RunTrigger.NIGHTLY)
    assert out.applied and not out.delta and edfi.change_version == 600
