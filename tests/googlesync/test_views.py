"""The district's Google pages: the key never shown again, Sync now with its progress page,
the first run a preview, the org-unit map and the reports at a fixed number of queries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditEvent, Kind
from equity.inventory.models import Device
from googlesync import services
from googlesync.models import GoogleConnection, OrgUnit, SyncRun
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def test_key_upload_is_sealed_and_never_shown(google, district, district_admin, login, maple):
    client = login(district_admin)
    url = reverse("googlesync:connection", args=[district.pk])
    key = google.key_file()
    response = client.post(
        url,
        {
            "key_file": SimpleUploadedFile("key.json", key.encode(), "application/json"),
            "admin_email": google.admin,
            "customer_id": google.customer,
            "org_unit_root": "/",
            "default_school": maple.pk,
            "lost_message": "Return to Riverbend.",
        },
    )
    assert response.status_code == 302
    connection = GoogleConnection.unscoped.get(district=district)
    assert connection.has_key and connection.default_school == maple
    page = client.get(url).content.decode()
    assert google.client_email in page
    assert "PRIVATE KEY" not in page and connection.key_sealed not in page
    # Saving again without a file keeps the key.
    client.post(
        url,
        {
            "admin_email": google.admin,
            "customer_id": "C01pw",
            "org_unit_root": "/",
            "lost_message": "x",
        },
    )
    assert GoogleConnection.unscoped.get(district=district).key_sealed == connection.key_sealed
    # Both saves are in the audit log, with who and which key; never the key itself.
    events = AuditEvent.objects.filter(kind=Kind.INTEGRATION).order_by("pk")
    assert [(e.user, e.district_id) for e in events] == [(district_admin, district.pk)] * 2
    assert events[0].detail == (
        f"Google Admin connection made; service-account key {connection.key_id} uploaded"
    )
    assert events[1].detail == "Google Admin connection changed"
    assert not any("PRIVATE KEY" in e.detail for e in events)


def test_a_file_that_is_not_a_key_is_a_field_error(district, district_admin, login):
    client = login(district_admin)
    response = client.post(
        reverse("googlesync:connection", args=[district.pk]),
        {
            "key_file": SimpleUploadedFile("key.json", b"not json"),
            "admin_email": "a@b.example",
            "customer_id": "my_customer",
            "org_unit_root": "/",
            "lost_message": "x",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["key_file"] == ["This is not a JSON key file."]
    assert not GoogleConnection.unscoped.exists()


def test_sync_now_previews_first_then_approved_runs_write(
    google, connection, district, district_admin, login, django_capture_on_commit_callbacks
):
    google.add("SN-V1", ou="/Students/Maple")
    client = login(district_admin)
    url = reverse("googlesync:sync_now", args=[district.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    run = SyncRun.unscoped.latest("pk")
    assert response.url == run.get_absolute_url()
    assert run.dry_run and run.status == "done" and run.created == 1
    assert not Device.unscoped.filter(serial_number="SN-V1").exists()
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Preview: a sync would add 1" in page and "Approve and sync" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"approve": "1"})
    run = SyncRun.unscoped.latest("pk")
    assert not run.dry_run and run.status == "done"
    assert Device.unscoped.filter(serial_number="SN-V1").exists()
    assert GoogleConnection.unscoped.get(pk=connection.pk).approved_by == district_admin
    assert (
        AuditEvent.objects.get(
            kind=Kind.INTEGRATION, detail="Google Admin nightly sync approved"
        ).user
        == district_admin
    )


def test_a_failed_run_says_why(
    google, connection, district, district_admin, login, django_capture_on_commit_callbacks
):
    google.faults = [(429, "list")] * 10
    client = login(district_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("googlesync:sync_now", args=[district.pk]))
    run = SyncRun.unscoped.latest("pk")
    assert run.status == "failed" and "quota" in run.error
    assert "changed nothing" in client.get(run.get_absolute_url()).content.decode()


def test_nightly_runs_only_approved_districts(
    google, connection, django_capture_on_commit_callbacks
):
    from googlesync.tasks import sync_all_districts

    google.add("SN-N1", ou="/Students/Maple")
    assert sync_all_districts() == 0
    services.approve(connection=connection, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_all_districts() == 1
    assert Device.unscoped.filter(serial_number="SN-N1").exists()


def test_mapping_an_org_unit(district, district_admin, login, maple, connection):
    client = login(district_admin)
    url = reverse("googlesync:org_units", args=[district.pk])
    response = client.post(url, {"ou-path": "/Staff/Maple", "ou-school": maple.pk})
    assert response.status_code == 302
    assert OrgUnit.unscoped.get(path="/Staff/Maple").school == maple
    event = AuditEvent.objects.filter(kind=Kind.INTEGRATION, object_type="googlesync.orgunit")
    assert event.latest("pk").user == district_admin
    assert event.latest("pk").detail == f"org unit /Staff/Maple → school {maple.code}"
    response = client.post(url, {"ou-path": "Staff", "ou-school": ""})
    assert "starts with /" in response.content.decode()


LONG_AGO = datetime.now(UTC) - timedelta(days=120)


def _fleet(google, connection, district, maple, cedar, n):
    for i in range(n):
        google.add(f"SN-R{n}-{i}", ou="/Students/Cedar", last_sync=LONG_AGO, aue="2027-03-31")
        DeviceFactory(school=maple, serial_number=f"SN-P{n}-{i}")
    services.sync(connection)


def test_reports_cost_the_same_at_two_sizes(
    google,
    connection,
    district,
    maple,
    cedar,
    district_admin,
    login,
    monkeypatch,
):
    client = login(district_admin)
    url = reverse("googlesync:reports", args=[district.pk])
    _fleet(google, connection, district, maple, cedar, 2)
    client.get(url)
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(db) as small:
        client.get(url)
    _fleet(google, connection, district, maple, cedar, 12)
    with CaptureQueriesContext(db) as large:
        page = client.get(url).content.decode()
    assert len(large) == len(small)
    import re

    text = re.sub(r"\s+", " ", page)
    assert "Only in Pillarwise (14)" in text, re.findall(r"Only in Pillarwise[^:]*", text)
    assert "Not seen by Google for 90 days (14)" in text
    # Past its cap a list's count says "more than" instead of counting on.
    from googlesync import views

    real = views.count_at_most
    monkeypatch.setattr(views, "count_at_most", lambda qs: real(qs, cap=10))
    text = re.sub(r"\s+", " ", client.get(url).content.decode())
    assert "Only in Pillarwise (more than 10)" in text
    assert "Not seen by Google for 90 days (more than 10)" in text


def test_a_run_under_way_shows_its_progress_and_polls(district, district_admin, login, connection):
    from django.core.cache import cache

    from googlesync.tasks import progress_key

    run = SyncRun.unscoped.create(district=district, status=SyncRun.Status.READING)
    cache.set(progress_key(run.pk), ("reading", 600, 0))
    client = login(district_admin)
    response = client.get(run.get_absolute_url(), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "Reading from Google: 600 devices so far." in text
    assert 'hx-trigger="every 1s"' in text and "<h1" not in text  # the polled part alone
    cache.set(progress_key(run.pk), ("writing", 300, 1200))
    assert "Writing 300 of 1,200 devices." in client.get(run.get_absolute_url()).content.decode()
