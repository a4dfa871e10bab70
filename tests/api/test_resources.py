"""The API's reads and writes: the pages' rules, in JSON, at a constant cost."""

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from equity.inventory.models import DeviceEvent, EventKind
from pd.models import Attendance
from stakeholders.models import Answer, QuestionKind, Response
from tests.factories import (
    DeviceFactory,
    PDSessionFactory,
    QuestionFactory,
    ReadinessSnapshotFactory,
    StaffMemberFactory,
    StudentFactory,
    SurveyFactory,
    open_assignment,
)

# --- devices ------------------------------------------------------------------------------


def test_device_filters_narrow_the_list(api, tech, cedar):
    DeviceFactory(school=cedar, asset_tag="LAB-1")
    DeviceFactory(school=cedar, asset_tag="LAB-2", status="lost")
    DeviceFactory(school=cedar, asset_tag="CART-1")
    call = api(tech)

    def tags(query):
        response = call.get(f"/api/v1/devices/?{query}")
        assert response.status_code == 200, response.content
        return [d["asset_tag"] for d in response.json()["results"]]

    assert tags("tag_prefix=LAB") == ["LAB-1", "LAB-2"]
    assert tags("status=lost") == ["LAB-2"]
    assert tags(f"school={cedar.pk}&tag_prefix=CART") == ["CART-1"]


def test_bad_query_parameters_are_field_errors(api, tech):
    call = api(tech)
    for query, field in [
        ("school=1.5", "school"),
        ("school=99999999999999999999999", "school"),
        ("status=melted", "status"),
        ("tag_prefix=a%00b", "tag_prefix"),
    ]:
        response = call.get(f"/api/v1/devices/?{query}")
        assert response.status_code == 400, query
        assert field in response.json(), (query, response.json())
    assert call.get("/api/v1/devices/?cursor=garbage").status_code == 404


def test_a_services_refusal_comes_back_on_its_field(api, tech, cedar, maple):
    assignment = open_assignment(cedar)
    call = api(tech)
    again = call.post(
        "/api/v1/assignments/",
        {"device": assignment.device_id, "student": StudentFactory(school=cedar).pk},
    )
    assert again.status_code == 400
    assert again.json() == {"asset_tag": [f"{assignment.device.asset_tag} is already checked out."]}
    lost = call.post(f"/api/v1/devices/{assignment.device_id}/report-lost/", {"circumstance": "?"})
    assert lost.status_code == 400 and "circumstance" in lost.json()


def test_check_out_and_in_write_the_devices_history(api, tech, cedar):
    device = DeviceFactory(school=cedar)
    student = StudentFactory(school=cedar)
    call = api(tech)
    out = call.post(
        "/api/v1/assignments/", {"asset_tag": device.asset_tag, "student_id": student.local_id}
    )
    assert out.status_code == 201
    assert out.json()["student_local_id"] == student.local_id
    back = call.post(f"/api/v1/assignments/{out.json()['id']}/check-in/", {"condition": "damaged"})
    assert back.status_code == 200 and back.json()["condition_on_return"] == "damaged"
    device.refresh_from_db()
    assert device.status == "in_repair"  # the service's rule: damaged goes to repair
    kinds = list(DeviceEvent.objects.filter(device=device).values_list("kind", flat=True))
    assert sorted(kinds) == sorted([EventKind.CHECK_OUT, EventKind.CHECK_IN, EventKind.REPAIR_SENT])


def test_a_coach_may_not_read_the_inventory(api, coach, maple):
    DeviceFactory(school=maple)
    assert api(coach).get("/api/v1/devices/").status_code == 403
    device = DeviceFactory(school=maple)
    assert api(coach).get(f"/api/v1/devices/{device.pk}/").status_code == 403


def test_a_principal_reads_devices_but_may_not_check_them_out(api, principal, maple):
    device = DeviceFactory(school=maple)
    student = StudentFactory(school=maple)
    call = api(principal)
    assert call.get(f"/api/v1/devices/{device.pk}/").status_code == 200
    response = call.post("/api/v1/assignments/", {"device": device.pk, "student": student.pk})
    assert response.status_code == 403


def test_students_carry_pseudonymous_fields_only(api, tech, cedar):
    student = StudentFactory(school=cedar)
    (row,) = api(tech).get("/api/v1/students/").json()["results"]
    assert row["local_id"] == student.local_id
    assert set(row) == {
        "id",
        "school",
        "local_id",
        "grade",
        "needs_touch",
        "home_internet",
        "active",
    }


def _devices(school, n, batch="Q"):
    from equity.inventory.models import Device
    from tests.factories import DeviceModelFactory

    model = DeviceModelFactory(district=school.district)
    Device.unscoped.bulk_create(
        Device(
            school=school,
            district=school.district,
            model=model,
            maker=model.maker,
            asset_tag=f"{batch}-{school.pk}-{i:05d}",
            serial_number=f"{batch}{school.pk}-{i}",
        )
        for i in range(n)
    )


def _count(call, path):
    with CaptureQueriesContext(connection) as queries:
        response = call.get(path)
    assert response.status_code == 200, response.content
    return len(queries), queries, response.json()


def test_every_list_costs_the_same_at_two_sizes(api, tech, cedar):
    call = api(tech)
    call.get("/api/v1/schools/")  # the token's first use of the minute notes it (one UPDATE)
    _devices(cedar, 3)
    for _ in range(2):
        open_assignment(cedar)
    small = {p: _count(call, p)[0] for p in LIST_PATHS}
    _devices(cedar, 120, batch="R")
    for _ in range(12):
        open_assignment(cedar)
    large = {p: _count(call, p)[0] for p in LIST_PATHS}
    assert small == large


LIST_PATHS = [
    "/api/v1/devices/",
    "/api/v1/students/",
    "/api/v1/assignments/",
    "/api/v1/device-events/",
    "/api/v1/schools/",
    "/api/v1/device-models/",
]


def test_a_deep_device_page_reads_by_cursor_without_offset_or_count(api, tech, cedar):
    _devices(cedar, 130)
    call = api(tech)
    call.get("/api/v1/schools/")  # the token's first use of the minute notes it (one UPDATE)
    seen = []
    path = "/api/v1/devices/?page_size=50"
    costs = []
    while path:
        n, queries, body = _count(call, path)
        costs.append(n)
        sql = " ".join(q["sql"] for q in queries).upper()
        assert "OFFSET" not in sql and "COUNT(" not in sql
        seen += [d["asset_tag"] for d in body["results"]]
        path = body["next"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 130
    assert len(set(costs)) == 1  # the third page costs what the first did
    assert re.search(r"cursor=", body["previous"])


# --- readiness and coverage: ETag ---------------------------------------------------------


def test_readiness_and_coverage_answer_304_to_a_current_etag(api, principal, maple):
    ReadinessSnapshotFactory(school=maple)
    call = api(principal)
    for path in (f"/api/v1/schools/{maple.pk}/readiness/", f"/api/v1/schools/{maple.pk}/coverage/"):
        first = call.get(path)
        assert first.status_code == 200 and first["ETag"]
        again = call.get(path, **{"If-None-Match": first["ETag"]})
        assert again.status_code == 304 and not again.content
        assert call.get(path, **{"If-None-Match": '"stale"'}).status_code == 200
    DeviceFactory(school=maple)  # coverage changes: the old ETag no longer matches
    path = f"/api/v1/schools/{maple.pk}/coverage/"
    assert call.get(path, **{"If-None-Match": first["ETag"]}).status_code == 200


def test_readiness_history_lists_snapshots_newest_first(api, principal, maple):
    now = timezone.now()
    for days in (3, 2, 1):
        ReadinessSnapshotFactory(school=maple, computed_at=now - timedelta(days=days))
    rows = api(principal).get(f"/api/v1/schools/{maple.pk}/readiness/history/").json()["results"]
    assert [r["computed_at"] for r in rows] == sorted(
        (r["computed_at"] for r in rows), reverse=True
    )
    assert len(rows) == 3 and "indicators" not in rows[0]


# --- surveys: the small-group rule --------------------------------------------------------


def test_survey_results_hide_small_groups_as_the_page_does(api, principal, maple, district):
    district.survey_min_group = 5
    district.save()
    survey = SurveyFactory(schools=[maple])
    likert = QuestionFactory(survey=survey, kind=QuestionKind.LIKERT)
    free = QuestionFactory(survey=survey, kind=QuestionKind.TEXT, need_category="devices")
    for audience, n in (("teachers", 7), ("families", 3)):
        for i in range(n):
            r = Response.objects.create(
                survey=survey, audience=audience, submitted_on=timezone.localdate()
            )
            Answer.objects.create(response=r, question=likert, likert=4)
            Answer.objects.create(response=r, question=free, text=f"secret-{audience}-{i}")
    body = api(principal).get(f"/api/v1/surveys/{survey.pk}/results/").json()
    audiences = {a["audience"]: a for a in body["audiences"]}
    # Families (3) are under 5; teachers (7) are hidden too, or total minus teachers gives 3.
    assert audiences["families"]["responses"] is None and audiences["families"]["hidden"]
    assert audiences["teachers"]["responses"] is None
    assert body["responses"] == 10
    assert "secret-families" not in str(body)
    (item,) = body["likert"]
    assert item["answers"] == 10 and all(a["mean"] is None for a in item["by_audience"])


# --- PD -----------------------------------------------------------------------------------


def test_attendance_is_set_through_the_pd_service(api, coach, maple, cedar):
    session = PDSessionFactory(schools=[maple, cedar])
    mine = Attendance.objects.create(session=session, staff=StaffMemberFactory(school=maple))
    theirs = Attendance.objects.create(session=session, staff=StaffMemberFactory(school=cedar))
    call = api(coach)
    detail = call.get(f"/api/v1/pd-sessions/{session.pk}/").json()
    assert [a["id"] for a in detail["attendance"]] == [mine.pk]  # Cedar's row is not shown
    url = f"/api/v1/pd-sessions/{session.pk}/attendance/"
    refused = call.post(url, {"rows": [{"attendance": theirs.pk, "status": "attended"}]})
    assert refused.status_code == 400 and "rows" in refused.json()
    done = call.post(url, {"rows": [{"attendance": mine.pk, "status": "attended"}]})
    assert done.status_code == 200
    mine.refresh_from_db()
    assert mine.status == "attended" and mine.hours == session.hours
    assert session.changes.exists()  # the session's change log, as the page writes it
