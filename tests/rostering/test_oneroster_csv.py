"""sync_roster over OneRoster CSV bundles: the preview, --apply, deltas, and bad bundles."""

from equity.inventory.models import Student
from schools.models import School, StaffMember

from .roster_data import base_roster, bundle


def test_it_previews_without_writing(sync, csv_source, roster):
    code, out, _err = sync(data=bundle(roster))
    assert code == 0
    assert out["schools_matched"] == 2
    assert out["schools_unmatched"] == ["Oak Ridge High, Campus (OAK)"]
    assert (out["students_created"], out["students_updated"], out["students_left"]) == (5, 0, 0)
    assert (out["staff_created"], out["staff_updated"]) == (3, 0)
    assert out["errors"] == []
    assert out["applied"] is False
    assert not Student.objects.exists()
    assert not StaffMember.objects.exists()


def test_it_applies_students_staff_and_enrollment(sync, csv_source, roster, maple, cedar):
    code, out, _err = sync(data=bundle(roster), apply=True)
    assert code == 0 and out["applied"]
    students = {s.local_id: s for s in Student.objects.all()}
    assert sorted(students) == ["1001", "1002", "1003", "1004", "1005"]
    assert students["1001"].grade == 0 and students["1001"].needs_touch
    assert students["1004"].school == cedar
    assert not students["1002"].needs_touch
    staff = {s.email: s for s in StaffMember.objects.all()}
    assert staff["ada@riverbend.example.org"].full_name == "Ada Lovelace"
    assert staff["alan@riverbend.example.org"].position == "administrator"
    maple.refresh_from_db()
    cedar.refresh_from_db()
    assert (maple.enrollment_pk_2, maple.enrollment_3_5) == (2, 1)
    assert cedar.enrollment_6_8 == 2  # 500 typed before, now counted from the roster
    assert maple.enrollment_from_roster and maple.device_target() == 4  # ceil(1.1 × 3)


def test_a_second_run_with_no_changes_writes_nothing(sync, csv_source, roster):
    sync(data=bundle(roster), apply=True)
    stamps = sorted(Student.objects.values_list("local_id", "updated_at"))
    staff = sorted(StaffMember.objects.values_list("pk", "updated_at"))
    schools = sorted(School.objects.values_list("pk", "enrollment_synced_at"))
    code, out, _err = sync(data=bundle(roster), apply=True)
    assert code == 0
    assert (out["students_created"], out["students_updated"], out["students_left"]) == (0, 0, 0)
    assert (out["staff_created"], out["staff_updated"]) == (0, 0)
    assert out["students_unchanged"] == 5
    assert sorted(Student.objects.values_list("local_id", "updated_at")) == stamps
    assert sorted(StaffMember.objects.values_list("pk", "updated_at")) == staff
    assert sorted(School.objects.values_list("pk", "enrollment_synced_at")) == schools


def test_leavers_are_marked_left_never_deleted(sync, csv_source, roster, maple):
    sync(data=bundle(roster), apply=True)
    code, out, _err = sync(
        data=bundle(roster.without("1003").changed("1002", grade="03")), apply=True
    )
    assert code == 0
    assert out["students_left"] == 1 and out["students_updated"] == 1
    gone = Student.objects.get(local_id="1003")
    assert not gone.active and gone.left_on and gone.leave_reason == "transferred"
    assert Student.objects.get(local_id="1002").grade == 3
    maple.refresh_from_db()
    assert (maple.enrollment_pk_2, maple.enrollment_3_5) == (1, 1)


def test_tobedeleted_status_leaves_in_a_delta(sync, csv_source, roster):
    sync(data=bundle(roster), apply=True)
    delta = roster.changed("1005", status="tobedeleted").without("1001")
    code, out, _err = sync(data=bundle(delta, mode="delta"), apply=True)
    assert code == 0
    assert out["students_left"] == 1  # 1001 is simply not in the delta: kept
    assert not Student.objects.get(local_id="1005").active
    assert Student.objects.get(local_id="1001").active


def test_typed_enrollment_override_is_kept(sync, csv_source, roster, cedar):
    cedar.enrollment_override = True
    cedar.save()
    sync(data=bundle(roster), apply=True)
    cedar.refresh_from_db()
    assert cedar.enrollment_6_8 == 500 and not cedar.enrollment_from_roster


def test_boms_quoted_commas_and_unknown_columns(sync, csv_source, roster):
    data = bundle(roster, bom=True, extra_user_columns={"favouriteColour": "blue, green"})
    code, out, _err = sync(data=data, apply=True)
    assert code == 0, out["errors"]
    assert out["students_created"] == 5
    assert Student.objects.count() == 5


def test_missing_file_refuses_and_names_it(sync, csv_source, roster):
    code, out, err = sync(data=bundle(roster, drop=("users.csv",)), apply=True)
    assert code == 1
    assert out["errors"] == [
        "users.csv: manifest.csv lists it as bulk but the bundle has no such file"
    ]
    assert "users.csv" in err
    assert not Student.objects.exists()


def test_missing_manifest_refuses(sync, csv_source, roster):
    code, out, _err = sync(data=bundle(roster, drop=("manifest.csv",)), apply=True)
    assert code == 1 and "manifest.csv" in out["errors"][0]


def test_errors_over_threshold_apply_nothing_and_name_each_line(sync, csv_source, roster):
    bad = roster.changed("1002", grade="13").changed("1004", grade="02")
    code, out, err = sync(data=bundle(bad), apply=True)
    assert code == 1
    assert out["errors"] == [
        'users.csv line 3: student 1002 grade "13" is not PK, KG or 01–12',
        "users.csv line 5: student 1004: grade 2 is not taught at Cedar Middle",
    ]
    for line in out["errors"]:
        assert line in err
    assert not Student.objects.exists() and not StaffMember.objects.exists()


def test_errors_within_threshold_skip_those_records(sync, csv_source, roster):
    csv_source.error_threshold = 1
    csv_source.save()
    code, out, _err = sync(data=bundle(roster.changed("1002", grade="13")), apply=True)
    assert code == 0 and out["applied"]
    assert sorted(Student.objects.values_list("local_id", flat=True)) == [
        "1001", "1003", "1004", "1005"
    ]  # fmt: skip


def test_a_row_with_too_many_cells_is_an_error_on_its_line(sync, csv_source):
    raw = (
        b"sourcedId,status,enabledUser,orgSourcedIds,role,givenName,familyName,identifier,grades\r\n"
        b"u-1,active,true,org-maple,student,Zephyrine,Quillfeather,1001,KG\r\n"
        b"u-2,active,true,org-maple,student,Barnaby,Oxen,bridge,1002,02\r\n"
    )
    code, out, _err = sync(data=bundle(base_roster(), raw_users=raw), apply=True)
    assert code == 1
    assert out["errors"] == ["users.csv line 3: 10 cells for 9 columns (a comma outside quotes?)"]


def test_a_user_listed_twice_is_an_error(sync, csv_source, roster):
    twice = roster.changed("1002", number="1001")
    code, out, _err = sync(data=bundle(twice))
    assert code == 1
    assert out["errors"] == ["users.csv line 3: student 1001 is listed again (an earlier row wins)"]


def test_a_run_stopped_half_way_through_applying_applies_nothing(
    sync, csv_source, roster, cedar, monkeypatch
):
    """The apply stops after the students and leavers were written (a crash, a killed
    worker): the one transaction rolls back the students, the staff and the enrollment."""
    import pytest

    from rostering import sync as sync_module
    from rostering.models import RosterRun, RunStatus

    written = []

    def stop(**kwargs):
        written.append(Student.objects.count())
        raise KeyboardInterrupt  # the worker is stopped mid-apply

    monkeypatch.setattr(sync_module, "staff_roster_apply", stop)
    with pytest.raises(KeyboardInterrupt):
        sync(data=bundle(roster), apply=True)
    assert written == [5]  # the students were in, inside the transaction
    assert not Student.objects.exists() and not StaffMember.objects.exists()
    cedar.refresh_from_db()
    assert cedar.enrollment_6_8 == 500 and cedar.enrollment_synced_at is None
    run = RosterRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.errors == ["stopped before it finished (KeyboardInterrupt); nothing applied"]


def test_a_oneroster_1_2_bundle_takes_roles_from_roles_csv(sync, csv_source):
    import io
    import zipfile

    users = (
        "\ufeffsourcedId,status,enabledUser,givenName,familyName,identifier,email,grades,"
        "primaryOrgSourcedId,preferredGivenName,pronouns\r\n"
        "u-1,active,true,Zephyrine,Quillfeather,1001,,KG,org-maple,Zeph,she\r\n"
        "t-1,active,true,Ada,Lovelace,,ada@riverbend.example.org,,org-maple,,\r\n"
    )
    roles = (
        "sourcedId,status,userSourcedId,roleType,role,orgSourcedId\r\n"
        "r-1,active,u-1,primary,student,org-maple\r\n"
        "r-2,active,t-1,primary,teacher,org-maple\r\n"
    )
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("manifest.csv", "propertyName,value\r\nfile.orgs,bulk\r\nfile.users,bulk\r\n")
        z.writestr("orgs.csv", "sourcedId,name,type,identifier\r\norg-maple,Maple,school,MAPLE\r\n")
        z.writestr("users.csv", users.encode())
        z.writestr("roles.csv", roles)
    code, out, _err = sync(data=data.getvalue(), apply=True)
    assert code == 0, out["errors"]
    assert (out["students_created"], out["staff_created"]) == (1, 1)
    assert Student.objects.get().local_id == "1001"
    assert StaffMember.objects.get().full_name == "Ada Lovelace"


def test_staff_left_out_are_marked_inactive_from_the_staged_set(sync, csv_source, roster, maple):
    """Every member the roster leaves out is marked inactive (never deleted), by a statement
    over the staged leavers: their ids never come into Python and go back as parameters, so
    the run's memory does not grow with the number of leavers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import StaffMemberFactory

    sync(data=bundle(roster), apply=True)
    typed = StaffMemberFactory.create_batch(40, school=maple)  # typed by hand, not in the SIS
    with CaptureQueriesContext(connection) as queries:
        code, out, _err = sync(data=bundle(roster), apply=True)
    assert code == 0 and out["applied"]
    assert StaffMember.objects.filter(pk__in=[s.pk for s in typed], active=False).count() == 40
    assert StaffMember.objects.filter(active=True).count() == 3
    marking = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "schools_staffmember"')]
    assert marking and all("SELECT id FROM" in sql for sql in marking)
    assert not [sql for sql in marking if str(typed[-1].pk) in sql]
