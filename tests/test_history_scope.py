"""Every history, log and "what changed" view shows only what its reader may see.

A log entry that describes another school's rows (a shared session's attendance at Cedar,
a device's events before it came from Maple, a readiness run of Cedar) is shown only to
people who see that school, exactly like the rows themselves. The mechanism is
``concerns`` on the scoped manager (schools/scoping.py); these tests hold it in place:

- every history-like model is classified: its rows belong to one school through its scope
  path, or it declares ``concerns``, or it is listed below as describing a whole object;
- for each history view, a change touching another school's rows is arranged through the
  real services, and the page read by a person of one school shows nothing of it, while
  the lines about their own school still show (so the check cannot pass on an empty page).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from audit.models import PurgeRecord
from core.auditlog import record
from core.models import AuditEvent, Kind
from equity.inventory import services as equity_services
from initiatives import services as initiative_services
from pd import services as pd_services
from pd.models import PDSessionChange
from readiness.models import ReadinessRun, RunKind, RunStatus
from schools.models import Role
from schools.scoping import SCHOOL, access_for, activate
from stakeholders.models import CommunicationLogEntry
from tests.factories import (
    DeviceFactory,
    InitiativeFactory,
    MembershipFactory,
    PDSessionFactory,
    ReadinessSnapshotFactory,
    StaffMemberFactory,
    StudentFactory,
    UserFactory,
)

# A model whose name says it keeps history or a log.
HISTORY_NAME = re.compile(r"(Change|Event|Run|Record|LogEntry|Snapshot|Log|History)$")
# The project's own apps (Django's admin log and django-axes' logs are read only by
# superusers, in the Django admin).
PROJECT_APPS = {
    "accounts",
    "schools",
    "core",
    "initiatives",
    "stakeholders",
    "pd",
    "equity",
    "readiness",
    "audit",
}

# History models whose entries describe a whole object, never one school's rows.
WHOLE_OBJECT = {
    "initiatives.StatusChange": "a status move of the initiative; it names no school's rows",
    "equity.RolloverRun": "the district's year-end run, read by its district admins only",
}


def _history_models():
    return [
        m
        for m in apps.get_models()
        if m._meta.app_label in PROJECT_APPS and HISTORY_NAME.search(m.__name__)
    ]


def test_every_history_model_says_whose_rows_each_entry_describes():
    """A new log model must either belong to one school, or declare ``concerns``."""
    unclassified = []
    for model in _history_models():
        label = model._meta.label
        manager = model._default_manager
        if label in WHOLE_OBJECT:
            continue
        own_school = (
            getattr(manager, "scope_path", None) == "school"
            and getattr(manager, "scope_dimension", None) == SCHOOL
        )
        if not own_school and not getattr(manager, "concerns", None):
            unclassified.append(label)
    assert not unclassified, (
        f"{unclassified}: scope each entry by the school whose rows it describes "
        '(ScopedManager(..., concerns="school")), or list the model in WHOLE_OBJECT.'
    )
    # Each history view is covered by a page check below.
    covered = set(PAGE_CHECKS) | set(WHOLE_OBJECT)
    assert {m._meta.label for m in _history_models()} <= covered


def test_a_log_entry_about_one_school_is_seen_with_that_school_only(
    maple, cedar, principal, district_admin
):
    """The mechanism itself, on every model that declares ``concerns``."""
    ReadinessRun.objects.create(
        district=cedar.district, school=cedar, kind=RunKind.MANUAL, error="cedar"
    )
    district_run = ReadinessRun.objects.create(district=cedar.district, kind=RunKind.NIGHTLY)
    cedar_event = record(Kind.EXPORT, school=cedar, detail="csv cedar.csv")
    with activate(access_for(principal)):
        assert list(ReadinessRun.objects.values_list("pk", flat=True)) == [district_run.pk]
        assert not AuditEvent.objects.filter(pk=cedar_event.pk).exists()
    with activate(access_for(district_admin)):
        assert ReadinessRun.objects.count() == 2
        assert AuditEvent.objects.filter(pk=cedar_event.pk).exists()
    declared = {
        m._meta.label for m in apps.get_models() if getattr(m._default_manager, "concerns", None)
    }
    assert declared == {
        "pd.PDSessionChange",
        "equity.DeviceEvent",
        "readiness.ReadinessRun",
        "core.AuditEvent",
        "audit.PurgeRecord",
    }


# --- one check per history view -------------------------------------------------------
# Each arranges, through the services, a change that touches Cedar's rows and one that
# touches Maple's; then a person of Maple (only) reads the page. ``hidden`` must not
# appear; ``shown`` must (the reader's own school's lines).


def _pd_session_history(maple, cedar, district_admin, client_for):
    coach = UserFactory(full_name="Mo Coach")
    MembershipFactory(user=coach, school=maple, district=maple.district, role=Role.COACH)
    mara = StaffMemberFactory(school=maple, full_name="Mara Maplestaff")
    cyrus = StaffMemberFactory(school=cedar, full_name="Cyrus Cedarstaff")
    celia = StaffMemberFactory(school=cedar, full_name="Celia Cedarlate")
    session = PDSessionFactory(schools=[maple], title="Shared session", duration_minutes=60)
    # Cedar joins the session, then attendees of both schools are added and changed.
    pd_services.session_update(
        session=session, data={}, schools=[maple, cedar], pillars=[], by=district_admin
    )
    pd_services.attendees_add(session=session, staff=[mara, cyrus], by=district_admin)
    rows = list(session.attendances.select_related("staff"))
    pd_services.attendance_update(
        session=session,
        rows=[(a, "absent", None) for a in rows],
        by=district_admin,
    )
    pd_services.attendees_add(session=session, staff=[celia], by=district_admin)
    pd_services.checkin_set(session=session, mode="open", by=district_admin)
    assert PDSessionChange.objects.filter(session=session).count() >= 4
    page = client_for(coach).get(reverse("pd:session_detail", args=[session.pk]))
    return (
        page,
        ["Cyrus Cedarstaff", "Celia Cedarlate", "Cedar Middle"],
        [
            "Attendance: Mara Maplestaff",
            "Self check-in",
        ],
    )


def _device_history(maple, cedar, district_admin, client_for):
    cedar_tech = UserFactory(full_name="Cedar Tech")
    MembershipFactory(user=cedar_tech, school=cedar, district=cedar.district, role=Role.TECH_STAFF)
    device = DeviceFactory(school=maple, district=maple.district, asset_tag="CB-MOVE-1")
    student = StudentFactory(school=maple, local_id="MAPLE-STU-0042")
    equity_services.device_check_out(device=device, student=student, by=district_admin)
    equity_services.device_check_in(
        device=device, by=district_admin, condition="good", note="MAPLE-RETURN-NOTE"
    )
    equity_services.devices_move(devices=[device], school=cedar, by=district_admin)
    device.refresh_from_db()
    equity_services.device_send_to_repair(device=device, by=cedar_tech, note="CEDAR-REPAIR")
    # Here the reader works at Cedar, and Maple is the other school.
    page = client_for(cedar_tech).get(reverse("equity:device_detail", args=[device.pk]))
    return (
        page,
        ["MAPLE-STU-0042", "MAPLE-RETURN-NOTE", "Maple Elementary"],
        [
            "CEDAR-REPAIR",
            "Arrived from another school",
        ],
    )


def _initiative_history(maple, cedar, district_admin, client_for, principal):
    cedar_principal = UserFactory(full_name="Cleo Cedarprincipal")
    MembershipFactory(
        user=cedar_principal, school=cedar, district=cedar.district, role=Role.PRINCIPAL
    )
    cedar_only = InitiativeFactory(schools=[cedar], title="Cedar plan", status="idea")
    initiative_services.initiative_move(initiative=cedar_only, to="planning", by=cedar_principal)
    initiative_services.initiative_move(
        initiative=cedar_only, to="pilot", by=cedar_principal, override_reason="CEDAR-ONLY-REASON"
    )
    shared = InitiativeFactory(schools=[maple, cedar], title="Shared plan", status="idea")
    initiative_services.initiative_move(initiative=shared, to="planning", by=principal)
    client = client_for(principal)
    pages = [
        client.get(reverse("initiatives:detail", args=[shared.pk])),
        client.get(reverse("initiatives:summary", args=[shared.pk])),
        client.get(reverse("initiatives:list")),
        client.get(reverse("initiatives:school", args=[maple.pk])),
    ]
    return pages, ["CEDAR-ONLY-REASON", "Cedar plan"], ["Shared plan", "Planning"]


def _audit_log(maple, cedar, district_admin, client_for, outsider, elsewhere):
    record(Kind.EXPORT, school=elsewhere, user=outsider, detail="csv HOLLOW-EXPORT.csv")
    record(Kind.EXPORT, school=maple, detail="csv MAPLE-EXPORT.csv")
    page = client_for(district_admin).get(reverse("audit:log", args=[maple.district.pk]))
    return page, ["HOLLOW-EXPORT", outsider.email], ["MAPLE-EXPORT"]


def _purge_records(maple, cedar, district_admin, client_for, elsewhere):
    PurgeRecord.objects.create(
        district=elsewhere.district, school=elsewhere, scope="school:HOLLOW-PURGE", students=3
    )
    PurgeRecord.objects.create(
        district=maple.district, school=maple, scope="school:MAPLE-PURGE", students=2
    )
    page = client_for(district_admin).get(reverse("audit:privacy", args=[maple.district.pk]))
    return page, ["HOLLOW-PURGE"], ["MAPLE-PURGE"]


def _readiness_what_changed(maple, cedar, district_admin, client_for, principal):
    now = timezone.now()
    for school, overall in ((maple, 40), (maple, 60), (cedar, 11), (cedar, 97)):
        ReadinessSnapshotFactory(school=school, overall=overall, computed_at=now)
        now += timedelta(minutes=1)
    ReadinessRun.objects.create(
        district=cedar.district,
        school=cedar,
        kind=RunKind.MANUAL,
        status=RunStatus.FAILED,
        error="CEDAR-RUN-FAILED",
    )
    client = client_for(principal)
    pages = [
        client.get(reverse("readiness:school", args=[maple.pk])),
        client.get(reverse("readiness:index"), follow=True),
    ]
    return pages, ["CEDAR-RUN-FAILED", "Cedar Middle"], ["What changed since last time"]


def _communication_log(maple, cedar, district_admin, client_for, principal):
    today = timezone.localdate()
    for school, text in ((cedar, "CEDAR-MESSAGE"), (maple, "MAPLE-MESSAGE")):
        CommunicationLogEntry.objects.create(
            school=school, date=today, channel="newsletter", audience="families", summary=text
        )
    page = client_for(principal).get(reverse("stakeholders:community", args=[maple.pk]))
    return page, ["CEDAR-MESSAGE"], ["MAPLE-MESSAGE"]


PAGE_CHECKS = {
    "pd.PDSessionChange": _pd_session_history,
    "equity.DeviceEvent": _device_history,
    "initiatives.StatusChange": _initiative_history,
    "core.AuditEvent": _audit_log,
    "audit.PurgeRecord": _purge_records,
    "readiness.Snapshot": _readiness_what_changed,
    "readiness.ReadinessRun": _readiness_what_changed,
    "stakeholders.CommunicationLogEntry": _communication_log,
    # Import jobs and station scans are one school's rows, listed on that school's pages
    # (tests/test_scoping_matrix.py checks lists never show another school's rows).
    "equity.ImportJob": None,
    "equity.StationEvent": None,
    "equity.RolloverRun": None,
}


@pytest.mark.parametrize(
    "label", sorted(label for label, check in PAGE_CHECKS.items() if check is not None)
)
def test_a_history_view_shows_nothing_of_another_schools_rows(
    label, maple, cedar, elsewhere, principal, district_admin, outsider, client
):
    def client_for(user):
        client.force_login(user)
        return client

    check = PAGE_CHECKS[label]
    extra = {"principal": principal, "outsider": outsider, "elsewhere": elsewhere}
    wanted = check.__code__.co_varnames[: check.__code__.co_argcount]
    result, hidden, shown = check(
        maple, cedar, district_admin, client_for, **{k: v for k, v in extra.items() if k in wanted}
    )
    pages = result if isinstance(result, list) else [result]
    for page in pages:
        assert page.status_code == 200, (label, page.status_code)
    text = "".join(page.content.decode() for page in pages)
    for secret in hidden:
        assert secret not in text, f"{label}: {secret!r} shows to a reader of one school"
    for mine in shown:
        assert mine in text, f"{label}: {mine!r} should show (the reader's own school)"
