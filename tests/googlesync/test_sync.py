"""The sync against the fake Directory API on loopback, through the real client library."""

import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from equity.inventory import services as inventory
from equity.inventory.models import Device, DeviceEvent, DeviceModel, EventKind
from googlesync import services
from googlesync.directory import GoogleProblem
from googlesync.models import GoogleConnection, GoogleDevice, OrgUnit
from tests.factories import DeviceFactory, DeviceModelFactory, StudentFactory

pytestmark = pytest.mark.django_db


def test_the_key_is_sealed_and_the_client_signs_in_as_the_admin(google, connection):
    stored = GoogleConnection.unscoped.get(pk=connection.pk)
    assert "PRIVATE KEY" not in stored.key_sealed
    assert google.client_email == stored.key_client_email
    google.add("SN-A1", ou="/Students/Maple")
    services.sync(stored)
    (claims,) = google.token_requests
    assert claims["sub"] == google.admin  # domain-wide delegation: acting as the admin
    assert claims["scope"].endswith("admin.directory.device.chromeos.readonly")


def test_first_sync_creates_devices_with_model_aue_school_and_tag(google, connection, maple, cedar):
    google.page_size = 2
    google.add("SN-A1", ou="/Students/Maple", asset="RB-0001", location="Room 12", aue="2028-06-01")
    google.add("SN-A2", ou="/Students/Maple/Grade 3", model="Lenovo 100e Chromebook Gen 4")
    google.add("SN-A3", ou="/Students/Cedar", asset="RB-0003")
    google.add("SN-A4", ou="/Staff")  # unmapped, no default school
    google.add("SN-A5", ou="/Students/Cedar", status="DEPROVISIONED")
    result = services.sync(connection)
    assert (result.created, result.updated, result.retired) == (3, 0, 0)
    assert result.pages == 3 and len(google.list_calls()) == 3
    assert [q.get("pageToken") for q in google.list_calls()] == [None, "2", "4"]
    assert all(
        q["projection"] == "FULL" and "recentUsers" not in q["fields"] for q in google.list_calls()
    )
    assert result.unmapped_org_units == ["/Staff"]
    assert result.only_in_google == ["SN-A4"]
    a1 = Device.unscoped.get(serial_number="SN-A1")
    assert (a1.asset_tag, a1.school, a1.auto_update_expiration) == (
        "RB-0001",
        maple,
        date(2028, 6, 1),
    )
    assert str(a1.model) == "Acer Chromebook Spin 512"
    a2 = Device.unscoped.get(serial_number="SN-A2")
    assert a2.asset_tag == "SN-A2" and a2.school == maple  # no asset id: the serial
    assert DeviceModel.unscoped.filter(maker="Lenovo", name="100e Chromebook Gen 4").exists()
    assert Device.unscoped.get(serial_number="SN-A3").school == cedar
    assert not Device.unscoped.filter(serial_number__in=["SN-A4", "SN-A5"]).exists()
    assert DeviceEvent.unscoped.filter(
        kind=EventKind.CREATED, device__serial_number="SN-A1"
    ).exists()
    record = GoogleDevice.unscoped.get(serial_number="SN-A1")
    assert (record.device, record.annotated_location, record.school) == (a1, "Room 12", maple)
    # Recent users' e-mail addresses are never asked for, so nowhere stored.
    assert "student1" not in json.dumps(list(GoogleDevice.unscoped.values()), default=str)
    assert OrgUnit.unscoped.get(path="/Staff").school is None


def test_resync_updates_moves_retires_and_lists_without_deleting(
    google, connection, district, maple, cedar
):
    model = DeviceModelFactory(district=district, maker="Acer", name="Spin 512")
    here = DeviceFactory(school=maple, model=model, asset_tag="T-1", serial_number="SN-B1")
    moving = DeviceFactory(school=maple, model=model, asset_tag="T-2", serial_number="SN-B2")
    out = DeviceFactory(school=maple, model=model, asset_tag="T-3", serial_number="SN-B3")
    inventory.device_check_out(device=out, student=StudentFactory(school=maple), by=None)
    gone = DeviceFactory(school=maple, model=model, asset_tag="T-4", serial_number="SN-B4")
    deprov = DeviceFactory(school=cedar, model=model, asset_tag="T-5", serial_number="SN-B5")
    google.add("SN-B1", ou="/Students/Maple", aue="2031-06-01")
    google.add("SN-B2", ou="/Students/Cedar")
    google.add("SN-B3", ou="/Students/Cedar")
    google.add("SN-B5", ou="/Students/Cedar", status="DEPROVISIONED")
    result = services.sync(connection)
    (
        here.refresh_from_db(),
        moving.refresh_from_db(),
        out.refresh_from_db(),
        deprov.refresh_from_db(),
    )
    assert here.auto_update_expiration == date(2031, 6, 1) and here.model == model  # catalog kept
    assert moving.school == cedar
    assert [e.kind for e in DeviceEvent.unscoped.filter(device=moving).order_by("pk")][-2:] == [
        "moved",
        "arrived",
    ]
    assert out.school == maple and result.assigned_elsewhere == ["T-3"]  # checked out: stays
    assert deprov.status == "retired" and result.retired == 1
    assert result.only_in_pillarwise == ["T-4"]
    assert Device.unscoped.filter(pk=gone.pk, status="in_stock").exists()  # never deleted
    assert result.created == 0 and result.updated == 4  # aue ×3, school ×1 (moving)


def test_asset_tag_already_used_falls_back_to_the_serial(google, connection, district, maple):
    DeviceFactory(school=maple, asset_tag="RB-9")
    google.add("SN-C1", ou="/Students/Maple", asset="RB-9")
    services.sync(connection)
    assert Device.unscoped.get(serial_number="SN-C1").asset_tag == "SN-C1"


def test_default_school_takes_unmapped_org_units(google, connection, cedar):
    connection.default_school = cedar
    connection.save()
    google.add("SN-D1", ou="/Library carts")
    result = services.sync(connection)
    assert result.created == 1 and result.only_in_google == []
    assert Device.unscoped.get(serial_number="SN-D1").school == cedar


def test_quota_errors_back_off_and_resume_at_the_same_page(google, connection):
    google.page_size = 1
    for n in range(3):
        google.add(f"SN-E{n}", ou="/Students/Maple")
    google.faults = [(429, "list"), (403, "list"), (503, "list")]
    result = services.sync(connection)
    assert result.created == 3 and result.backoffs == 3
    tokens = [q.get("pageToken") for q in google.list_calls()]
    assert tokens == [None, None, None, None, "1", "2"]  # three refusals of page 1, then on


def test_quota_never_coming_back_fails_and_writes_nothing(google, connection):
    google.add("SN-F1", ou="/Students/Maple")
    google.faults = [(429, "list")] * 10
    with pytest.raises(GoogleProblem, match="quota"):
        services.sync(connection)
    assert not Device.unscoped.filter(serial_number="SN-F1").exists()


def test_a_refusal_that_is_not_quota_stops_at_once(google, connection):
    google.faults = [(403, "*")]
    google.add("SN-G1", ou="/Students/Maple")
    from tests.googlesync import fake_directory

    fake_directory.QUOTA.pop(403)  # a plain 403 (not authorized), not a quota answer
    try:
        with pytest.raises(GoogleProblem, match="403"):
            services.sync(connection)
    finally:
        fake_directory.QUOTA[403] = (
            "rateLimitExceeded",
            "Quota exceeded for quota metric 'Queries'.",
        )
    assert len(google.list_calls()) == 1


def test_a_wrong_admin_is_refused_by_the_token_endpoint(google, connection):
    connection.admin_email = "someone@else.example"
    with pytest.raises(GoogleProblem, match="sign-in"):
        services.sync(connection)


def test_delta_asks_only_for_devices_synced_since_the_last_full_run(google, connection):
    old = datetime.now(UTC) - timedelta(days=30)
    google.add("SN-H1", ou="/Students/Maple", last_sync=old)
    services.sync(connection)
    connection.refresh_from_db()
    google.add("SN-H2", ou="/Students/Maple")
    result = services.sync(connection, delta=True)
    assert google.list_calls()[-1]["query"].startswith("sync:")
    assert result.delta and result.created == 1 and result.devices_read == 1
    assert result.only_in_pillarwise == []  # a delta lists nothing as missing


def test_dry_run_counts_and_writes_nothing(google, connection):
    google.add("SN-I1", ou="/Students/Maple")
    result = services.sync(connection, dry_run=True)
    assert result.created == 1
    assert not Device.unscoped.filter(serial_number="SN-I1").exists()
    assert not GoogleDevice.unscoped.exists()


def test_command_json_has_the_issue_keys(google, connection):
    google.add("SN-J1", ou="/Students/Maple")
    google.add("SN-J2", ou="/Elsewhere")
    out = StringIO()
    call_command("sync_google_devices", "--district", "riverbend", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert {k: data[k] for k in ("created", "updated", "retired")} == {
        "created": 1,
        "updated": 0,
        "retired": 0,
    }
    assert data["unmapped_org_units"] == ["/Elsewhere"] and data["only_in_google"] == ["SN-J2"]
    assert data["only_in_pillarwise"] == []
    out = StringIO()
    call_command("sync_google_devices", "--district", "riverbend", "--dry-run", stdout=out)
    assert "Would write: 0 created, 0 updated" in out.getvalue()


def test_command_refuses_a_district_without_connection(db):
    with pytest.raises(CommandError, match="no Google connection"):
        call_command("sync_google_devices", "--district", "nowhere")


def test_a_bad_key_file_is_a_field_error(district, district_admin, google):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        services.connection_save(
            district=district,
            by=district_admin,
            key_file='{"type": "user"}',
            admin_email="a@b.example",
        )
    assert "key_file" in caught.value.error_dict


def test_a_re_enrolled_device_links_to_its_new_google_record(google, connection):
    google.add("SN-K1", ou="/Students/Maple")
    services.sync(connection)
    device = Device.unscoped.get(serial_number="SN-K1")
    assert GoogleDevice.unscoped.get(google_id="dev-SN-K1").device == device
    google.devices["dev-SN-K1"]["status"] = "DEPROVISIONED"
    google.devices["dev-SN-K1-new"] = {
        **google.devices["dev-SN-K1"],
        "deviceId": "dev-SN-K1-new",
        "status": "ACTIVE",
    }
    google._sorted = None
    result = services.sync(connection)
    assert result.retired == 0  # the active record wins for the serial
    assert GoogleDevice.unscoped.get(google_id="dev-SN-K1-new").device == device
    assert GoogleDevice.unscoped.get(google_id="dev-SN-K1").device is None


def test_the_command_records_its_run(google, connection):
    from googlesync.models import SyncRun

    google.add("SN-L1", ou="/Students/Maple")
    call_command("sync_google_devices", "--district", "riverbend", stdout=StringIO())
    run = SyncRun.unscoped.get()
    assert (run.status, run.created, run.by) == ("done", 1, None)
    google.faults = [(403, "*")] * 10
    with pytest.raises(CommandError):
        call_command("sync_google_devices", "--district", "riverbend", stdout=StringIO())
    assert SyncRun.unscoped.latest("pk").status == "failed"
