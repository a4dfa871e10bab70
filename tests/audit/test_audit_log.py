"""The audit log: what is recorded, that it holds no student data, and the district page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.auditlog import record, subject_hash
from core.models import AuditEvent, Kind
from tests.conftest import PASSWORD
from tests.factories import DeviceFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def kinds():
    return list(AuditEvent.objects.values_list("kind", flat=True))


def test_a_sign_in_is_recorded_with_the_users_district(client, principal, district):
    response = client.post(
        reverse("accounts:login"), {"username": principal.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(kind=Kind.LOGIN)
    assert event.user == principal
    assert event.district == district


def test_a_failed_sign_in_keeps_only_a_hash_of_the_address(client, principal, district):
    client.post(reverse("accounts:login"), {"username": principal.email, "password": "wrong"})
    client.post(reverse("accounts:login"), {"username": "nobody@x.example", "password": "x"})
    known, unknown = (
        AuditEvent.objects.filter(kind=Kind.LOGIN_FAILED).order_by("pk").select_related("user")
    )
    assert known.user == principal and known.district == district
    assert unknown.user is None and unknown.district is None
    assert unknown.subject_hash == subject_hash("NOBODY@x.example")
    stored = " ".join(
        str(v) for e in (known, unknown) for v in (e.detail, e.object_id, e.object_type)
    )
    assert "nobody" not in stored and principal.email not in stored


def test_another_schools_object_is_a_recorded_scope_denial(login, principal, cedar):
    device = DeviceFactory(school=cedar)
    response = login(principal).get(reverse("equity:device_detail", args=[device.pk]))
    assert response.status_code == 404
    event = AuditEvent.objects.get(kind=Kind.DENIED_SCOPE)
    assert (event.user, event.object_type, event.object_id) == (
        principal,
        "equity.device",
        str(device.pk),
    )
    assert event.detail == "GET equity:device_detail"
    assert event.district_id == cedar.district_id  # the user's district


def test_a_role_refusal_is_recorded(login, coach, district):
    response = login(coach).get(reverse("schools:district_settings", args=[district.pk]))
    assert response.status_code == 403
    event = AuditEvent.objects.get(kind=Kind.DENIED_ROLE)
    assert event.user == coach and event.detail == "needs district_admin"


def test_an_export_is_recorded(login, district_admin, maple):
    DeviceFactory(school=maple)
    response = login(district_admin).get(reverse("equity:inventory"), {"format": "csv"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get(kind=Kind.EXPORT)
    assert event.user == district_admin and event.detail.startswith("csv devices-")


def test_a_bulk_action_is_recorded_and_a_refused_one_too(login, district_admin, maple, elsewhere):
    mine = DeviceFactory.create_batch(2, school=maple)
    client = login(district_admin)
    bulk = reverse("equity:devices_bulk")
    retire = {"bulk-action": "retire", "bulk-note": "old"}
    client.post(bulk, {"bulk-ids": [d.pk for d in mine], **retire})
    event = AuditEvent.objects.get(kind=Kind.BULK)
    assert event.detail == "retire 2 devices"
    foreign = DeviceFactory(school=elsewhere)
    client.post(bulk, {"bulk-ids": [mine[0].pk, foreign.pk], **retire})
    assert AuditEvent.objects.filter(kind=Kind.DENIED_SCOPE).count() == 1


def test_a_deleted_question_is_recorded(login, principal, maple):
    survey = SurveyFactory(schools=[maple])
    question = QuestionFactory(survey=survey)
    response = login(principal).post(reverse("stakeholders:question_delete", args=[question.pk]))
    assert response.status_code == 302
    event = AuditEvent.objects.get(kind=Kind.DELETE)
    assert event.object_type == "stakeholders.question" and event.user == principal


def test_recording_is_one_insert(principal, district):
    with CaptureQueriesContext(connection) as queries:
        record(Kind.EXPORT, user=principal, district=district, detail="csv x.csv")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert len([q for q in queries if "SAVEPOINT" not in q["sql"]]) == 1


def test_an_event_is_never_rewritten(district):
    event = record(Kind.EXPORT, district=district, detail="csv x.csv")
    with pytest.raises(ValueError):
        event.save()


def _events(district, n, user):
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=Kind.LOGIN, district=district, user=user, at=now - timedelta(minutes=i))
        for i in range(n)
    )


@pytest.mark.parametrize("size", [3, 80])
def test_the_log_page_costs_the_same_at_any_size(
    login, district_admin, district, size, django_assert_num_queries
):
    _events(district, size, district_admin)
    client = login(district_admin)
    url = reverse("audit:log", args=[district.pk])
    client.get(url)  # warm the session
    # session, user, one for access (a district-wide membership no longer lists the
    # district's schools), district, page (keyset: never counted)
    with django_assert_num_queries(5):
        response = client.get(url)
    assert response.status_code == 200


def test_the_log_filters_and_shows_only_the_district(login, district_admin, district, outsider):
    _events(district, 2, district_admin)
    record(Kind.EXPORT, district=district, user=district_admin, detail="csv devices-1.csv")
    record(Kind.EXPORT, district=outsider.memberships.first().district, detail="csv other.csv")
    client = login(district_admin)
    url = reverse("audit:log", args=[district.pk])
    page = client.get(url, {"kind": "export"}).content.decode()
    assert "csv devices-1.csv" in page and "other.csv" not in page
    assert "Signed in" not in page.split("<tbody>")[1]
    bad = client.get(url, {"since": "2026-05-02", "until": "2026-05-01"}).content.decode()
    assert "The end date comes before the start date." in bad


def test_only_a_district_admin_reads_the_log(login, principal, district):
    assert login(principal).get(reverse("audit:log", args=[district.pk])).status_code == 403
