"""Every write path that changes readiness evidence leads to exactly one debounced
recompute of its district, with Redis up and with Redis unreachable.

Readiness listens to ``schools.signals.evidence_changed`` alone (no model signal), so a
write path that forgets to announce its change queues no run and fails here.

Each path below is run for real (a page posted through the client, a service, an importer,
a management command, a bulk action, a task, an admin save or delete) inside a captured
commit. With Redis up the one change run is published with the debounce countdown; with
Redis unreachable (broker and cache pointed at a closed port, as a stopped Redis looks to
the app) the same one run is held as an ``core.PendingTask``, and it is computed once the
broker is back.

``test_every_write_function_and_command_is_classified`` keeps the list whole: every public
function of the domain apps' services and tasks, every management command and every model
admin of the domain apps is either a path here or named in ``NOT_EVIDENCE`` with the
reason. A new one fails until it is classified.

Why one long module: it is the registry of every write path (one ``@path`` per service,
task, command and admin action) beside the check that the registry is complete; split, a
path could be left out of every part without any part noticing.
"""

from __future__ import annotations

import importlib
import inspect
import io
import socket
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command, get_commands
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import Retention
from config.celery import app
from core import queue
from core.models import PendingTask
from equity.imports.models import ImportJob
from pd.models import Feedback, PDSession
from readiness import services as readiness
from readiness.models import ReadinessRun, RunKind, RunStatus
from readiness.tasks import compute_run
from schools.admin import EvidenceAdmin
from schools.scoping import access_for
from stakeholders.models import (
    CommunicationPlan,
    Invitation,
    PartnerKind,
    Partnership,
    Question,
    Story,
    Survey,
)
from tests.equity.imports.test_views import device_rows, upload
from tests.factories import (
    AttendanceFactory,
    BudgetLineFactory,
    DeviceFactory,
    DeviceModelFactory,
    InitiativeFactory,
    LearningLeaderFactory,
    PDNeedsPollFactory,
    PDSessionFactory,
    QuestionFactory,
    ReflectionFactory,
    SchoolFactory,
    StaffMemberFactory,
    StationEventFactory,
    StudentFactory,
    SurveyFactory,
    SwotFactory,
    UserFactory,
    open_assignment,
)
from tests.readiness.helpers import initiative as initiative_in

pytestmark = pytest.mark.django_db


@dataclass
class World:
    district: object
    maple: object
    cedar: object
    principal: object
    coach: object
    tech: object
    district_admin: object
    login: object
    tmp_path: object


PATHS: dict[str, object] = {}


def path(name: str):
    """Register a write path: a function of the world that arranges what it needs and
    returns the act (a callable) whose commit must lead to one recompute."""

    def register(function):
        assert name not in PATHS, name
        PATHS[name] = function
        return function

    return register


# --- equity: services, bulk actions, the year, imports -----------------------------------


@path("equity.inventory.services.device_check_out")
def _(w):
    device, student = DeviceFactory(school=w.cedar), StudentFactory(school=w.cedar)
    from equity.inventory import services

    return lambda: services.device_check_out(device=device, student=student, by=w.tech)


@path("equity.inventory.services.device_check_in")
def _(w):
    from equity.inventory import services

    device = open_assignment(w.cedar).device
    return lambda: services.device_check_in(device=device, by=w.tech)


@path("equity.inventory.services.device_report_missing")
def _(w):
    from equity.inventory import services

    device = DeviceFactory(school=w.cedar)
    return lambda: services.device_report_missing(
        device=device, by=w.tech, circumstance="other", place="bus"
    )


@path("equity.inventory.services.device_recover")
def _(w):
    from equity.inventory import services

    device = DeviceFactory(school=w.cedar)
    services.device_report_missing(device=device, by=w.tech, circumstance="other")
    return lambda: services.device_recover(device=device, by=w.tech)


@path("equity.inventory.services.device_send_to_repair")
def _(w):
    from equity.inventory import services

    device = DeviceFactory(school=w.cedar)
    return lambda: services.device_send_to_repair(device=device, by=w.tech)


@path("equity.inventory.services.device_return_from_repair")
def _(w):
    from equity.inventory import services

    device = DeviceFactory(school=w.cedar)
    services.device_send_to_repair(device=device, by=w.tech)
    return lambda: services.device_return_from_repair(device=device, by=w.tech)


@path("equity.inventory.services.device_create")
def _(w):
    from equity.inventory import services

    model = DeviceModelFactory(district=w.district)
    return lambda: services.device_create(
        school=w.cedar, asset_tag="NEW-1", serial_number="SN-NEW-1", model=model, by=w.tech
    )


@path("equity.inventory.services.devices_move")
def _(w):
    from equity.inventory import services

    devices = DeviceFactory.create_batch(3, school=w.cedar)
    return lambda: services.devices_move(devices=devices, school=w.maple, by=w.district_admin)


@path("equity.inventory.services.devices_retire")
def _(w):
    from equity.inventory import services

    devices = DeviceFactory.create_batch(3, school=w.cedar)
    return lambda: services.devices_retire(devices=devices, by=w.tech)


@path("equity.inventory.services.devices_bulk_action")
def _(w):
    from equity.inventory import services

    devices = DeviceFactory.create_batch(3, school=w.cedar)
    access = access_for(w.tech)
    return lambda: services.devices_bulk_action(
        access=access,
        ids=[d.pk for d in devices],
        action=services.BULK_RETIRE,
        by=w.tech,
    )


@path("equity.inventory.services.devices_release")
def _(w):
    from equity.inventory import services

    students = [open_assignment(w.maple).student for _ in range(2)]
    return lambda: services.devices_release(student_ids=[s.pk for s in students])


@path("equity.year.services.handout_scan")
def _(w):
    from equity.year import services as year_services

    event = StationEventFactory(school=w.cedar, kind="handout")
    device = DeviceFactory(school=w.cedar, asset_tag="HAND-1")
    student = StudentFactory(school=w.cedar, local_id="H-1")
    return lambda: year_services.handout_scan(
        event=event, student_id=student.local_id, asset_tag=device.asset_tag, by=w.tech
    )


@path("equity.year.services.collection_scan")
def _(w):
    from equity.year import services as year_services

    event = StationEventFactory(school=w.cedar, kind="collection")
    device = open_assignment(w.cedar).device
    return lambda: year_services.collection_scan(event=event, asset_tag=device.asset_tag, by=w.tech)


@path("equity.year.rollover.run_rollover")
def _(w):
    from equity.year import rollover

    StudentFactory.create_batch(3, school=w.maple, grade=3)
    return lambda: rollover.run_rollover(w.district, "", by=w.district_admin)


@path("equity.imports.devices.import_devices")
def _(w):
    from equity.imports import devices as device_import

    rows = upload(device_rows(5)).read()
    return lambda: device_import.import_devices(
        io.BytesIO(rows), district=w.district, default_school=w.cedar
    )


@path("equity.imports.students.import_students")
def _(w):
    from equity.imports import students as student_import

    csv = io.BytesIO(b"student_id,grade\nI-1,3\nI-2,4\nI-3,5\n")
    return lambda: student_import.import_students(csv, district=w.district, default_school=w.maple)


@path("equity.inventory.bulk.devices_bulk_upsert")
def _(w):
    from equity.inventory import bulk

    model = DeviceModelFactory(district=w.district)
    moving = DeviceFactory(school=w.cedar, model=model)
    rows = [
        bulk.DeviceUpsert(
            f"BULK-{n}",
            f"SN-BULK-{n}",
            model.pk,
            model.maker,
            w.cedar.pk,
            None,
            None,
            None,
            None,
            None,
        )
        for n in range(3)
    ]
    rows.append(
        bulk.DeviceUpsert(
            moving.asset_tag, moving.serial_number, model.pk, model.maker, w.maple.pk, None,
            None, None, None, None,
        )
    )  # fmt: skip
    return lambda: bulk.devices_bulk_upsert(rows, district=w.district, by=w.tech)


@path("equity.inventory.bulk.students_bulk_upsert")
def _(w):
    from equity.inventory import bulk

    StudentFactory(school=w.maple, local_id="B-0", grade=3)
    rows = [bulk.StudentUpsert(f"B-{n}", None, 3 + n, None, None) for n in range(3)]
    return lambda: bulk.students_bulk_upsert(rows, district=w.district, default_school=w.maple)


@path("equity.imports.services.import_file_now")
def _(w):
    from equity.imports import services as import_services
    from equity.imports.readers import Source

    source = Source(io.BytesIO(b"student_id,grade\nN-1,3\nN-2,4\n"))
    return lambda: import_services.import_file_now(
        school=w.maple,
        kind=ImportJob.Kind.STUDENTS,
        source=source,
        fmt=None,
        dry_run=False,
        by=w.district_admin,
        allowed_school_ids=None,
    )


@path("equity.imports.tasks.run_import")
def _(w):
    from equity.imports import tasks

    job = ImportJob.objects.create(
        school=w.maple,
        kind="students",
        content="student_id,grade\nT-1,3\nT-2,4\n",
        created_by=w.district_admin,
    )
    return lambda: tasks.run_import.run(job.pk)


# --- googlesync: the sync writes devices through the inventory's bulk writer ------------


def _google(w):
    """A district connected to the shared fake Google, which lists one Chromebook of an org
    unit mapped to Cedar (a new device: evidence)."""
    from django.test import override_settings

    from googlesync import services as google_sync
    from tests.googlesync.fake_directory import shared_fake

    fake = shared_fake()
    # Every test that talks to the fake points the setting at its own server first.
    override_settings(GOOGLE_DIRECTORY_API_URL=fake.api_url).enable()
    connection = google_sync.connection_save(
        district=w.district, by=None, key_file=fake.key_file(), admin_email=fake.admin
    )
    google_sync.org_unit_map(district=w.district, path="/Cedar", school=w.cedar)
    fake.add("SN-GOOGLE-1", ou="/Cedar")
    return connection


@path("googlesync.services.sync")
def _(w):
    from googlesync import services as google_sync

    connection = _google(w)
    return lambda: google_sync.sync(connection)


@path("googlesync.tasks.run_sync")
def _(w):
    from googlesync.models import SyncRun
    from googlesync.tasks import run_sync

    _google(w)
    run = SyncRun.objects.create(district=w.district)
    return lambda: run_sync(run.pk)


@path("command:sync_google_devices")
def _(w):
    _google(w)
    return lambda: call_command("sync_google_devices", "--district", "riverbend", stdout=StringIO())


# --- rostering: a roster run writes students, staff and enrollment -----------------------


def _roster_bundle(w):
    from django.test import override_settings

    from rostering.models import RosterSource
    from tests.rostering.roster_data import base_roster, bundle

    # Each use writes its bundle under its own tmp_path: the setting follows it.
    override_settings(ROSTER_DROP_DIR=w.tmp_path).enable()
    file = w.tmp_path / w.district.slug / "roster.zip"
    file.parent.mkdir(exist_ok=True)
    file.write_bytes(bundle(base_roster()))
    return RosterSource.objects.create(
        district=w.district, kind="oneroster-csv", bundle_path=str(file)
    )


@path("rostering.services.run_execute")
def _(w):
    from rostering import services

    run = services.run_create(source=_roster_bundle(w), trigger="page", apply=True)
    return lambda: services.run_execute(run.pk)


@path("rostering.tasks.run_roster")
def _(w):
    from rostering import services, tasks

    run = services.run_create(source=_roster_bundle(w), trigger="nightly", apply=True)
    return lambda: tasks.run_roster.run(run.pk)


@path("command:sync_roster")
def _(w):
    source = _roster_bundle(w)
    return lambda: call_command(
        "sync_roster", "--district", "riverbend", "--source", "oneroster-csv",
        source.bundle_path, "--apply", stdout=StringIO(),
    )  # fmt: skip


@path("schools.services.enrollment_from_roster")
def _(w):
    from schools import services

    return lambda: services.enrollment_from_roster(
        school_ids=[w.maple.pk], bands={w.maple.pk: {"enrollment_pk_2": 7}}, at=timezone.now()
    )


@path("schools.services.staff_roster_apply")
def _(w):
    from schools import services

    new = {"school_id": w.maple.pk, "full_name": "New Teacher", "email": "n@example.org",
           "position": "teacher", "active": True}  # fmt: skip
    return lambda: services.staff_roster_apply(
        district_id=w.district.pk, create=[new], update=[], leaving=[]
    )


# --- equity: management commands and pages -----------------------------------------------


@path("command:import_devices")
def _(w):
    file = w.tmp_path / "devices.csv"
    file.write_bytes(upload(device_rows(4, school="CEDAR")).read())
    return lambda: call_command("import_devices", str(file), "--school", "CEDAR", stdout=StringIO())


@path("command:import_students")
def _(w):
    file = w.tmp_path / "students.csv"
    file.write_text("student_id,school,grade\nC-1,MAPLE,3\nC-2,MAPLE,4\n")
    return lambda: call_command(
        "import_students", str(file), "--school", "MAPLE", stdout=StringIO()
    )


@path("command:rollover_year")
def _(w):
    StudentFactory.create_batch(2, school=w.maple, grade=2)
    return lambda: call_command("rollover_year", "--district", "riverbend", stdout=StringIO())


@path("command:purge_students")
def _(w):
    StudentFactory(school=w.maple, local_id="P-1")
    return lambda: call_command("purge_students", "--student", "P-1", stdout=StringIO())


@path("web:equity:checkout")
def _(w):
    DeviceFactory(school=w.cedar, asset_tag="DESK-1")
    StudentFactory(school=w.cedar, local_id="D-1")
    client = w.login(w.tech)
    url = reverse("equity:checkout", args=[w.cedar.pk])
    return lambda: client.post(url, {"asset_tag": "DESK-1", "student_id": "D-1"})


@path("web:equity:device_add")
def _(w):
    model = DeviceModelFactory(district=w.district)
    client = w.login(w.tech)
    url = reverse("equity:device_add", args=[w.cedar.pk])
    data = {"asset_tag": "WEB-1", "serial_number": "SN-WEB-1", "model": model.pk}
    return lambda: client.post(url, data)


@path("web:equity:device_action")
def _(w):
    device = DeviceFactory(school=w.cedar)
    client = w.login(w.tech)
    url = reverse("equity:device_action", args=[device.pk, "lost"])
    return lambda: client.post(url, {"lost-circumstance": "other", "lost-place": "Bus"})


@path("web:equity:devices_bulk")
def _(w):
    devices = DeviceFactory.create_batch(2, school=w.cedar)
    client = w.login(w.tech)
    data = {"bulk-ids": [d.pk for d in devices], "bulk-action": "retire"}
    return lambda: client.post(reverse("equity:devices_bulk"), data)


@path("web:equity:import_devices")
def _(w):
    client = w.login(w.tech)
    url = reverse("equity:import_devices", args=[w.cedar.pk])
    file = upload(device_rows(3))
    return lambda: client.post(url, {"file": file})


@path("web:equity:import_students")
def _(w):
    client = w.login(w.district_admin)
    url = reverse("equity:import_students", args=[w.maple.pk])
    file = upload([["W-1", "3"], ["W-2", "4"]], header=["student_id", "grade"], name="s.csv")
    return lambda: client.post(url, {"file": file})


# --- audit: purges ------------------------------------------------------------------------


@path("audit.purge.purge_student")
def _(w):
    from audit import purge

    student = open_assignment(w.maple).student
    return lambda: purge.purge_student(student)


@path("audit.purge.purge_school")
def _(w):
    from audit import purge

    open_assignment(w.maple)
    StudentFactory.create_batch(2, school=w.maple)
    return lambda: purge.purge_school(w.maple)


@path("audit.purge.apply_retention")
def _(w):
    from audit import purge

    Retention.objects.create(district=w.district, years_after_leaving=1)
    StudentFactory(school=w.maple, active=False, left_on=timezone.localdate() - timedelta(days=800))
    return purge.apply_retention


@path("audit.tasks.apply_retention")
def _(w):
    from audit import tasks

    Retention.objects.create(district=w.district, years_after_leaving=1)
    StudentFactory(school=w.maple, active=False, left_on=timezone.localdate() - timedelta(days=800))
    return tasks.apply_retention.run


# --- pd ----------------------------------------------------------------------------------


def _session(w, **extra):
    return PDSessionFactory(schools=[w.maple], facilitator_user=w.coach, **extra)


@path("pd.services.session_log")
def _(w):
    from pd import services

    staff = StaffMemberFactory.create_batch(2, school=w.maple)
    session = PDSession(
        title="Exit tickets",
        date=timezone.localdate(),
        duration_minutes=45,
        format="plc",
        facilitator_user=w.coach,
    )
    return lambda: services.session_log(
        session=session, schools=[w.maple], pillars=[], attendees=staff, by=w.coach
    )


@path("pd.services.session_update")
def _(w):
    from pd import services

    session = _session(w)
    AttendanceFactory(session=session, staff=StaffMemberFactory(school=w.maple))

    def act():
        return services.session_update(
            session=session,
            data={"duration_minutes": 90, "job_embedded": True},
            schools=[w.maple],
            pillars=[],
            by=w.coach,
        )

    return act


@path("pd.services.attendance_update")
def _(w):
    from pd import services

    session = _session(w, duration_minutes=120)
    a = AttendanceFactory(session=session, staff=StaffMemberFactory(school=w.maple))
    return lambda: services.attendance_update(
        session=session, rows=[(a, "attended", Decimal("1.5"))], by=w.coach
    )


@path("pd.services.attendees_add")
def _(w):
    from pd import services

    session = _session(w)
    late = StaffMemberFactory(school=w.maple)
    return lambda: services.attendees_add(session=session, staff=[late], by=w.coach)


@path("pd.services.checkin_with_code")
def _(w):
    from pd import services

    session = _session(w, checkin_mode="open")
    staff = StaffMemberFactory(school=w.maple, email="ana@maple.example.org")
    code = services.checkin_code_request(session=session, email=staff.email)
    return lambda: services.checkin_with_code(session=session, email=staff.email, code=code.code)


@path("pd.services.feedback_submit")
def _(w):
    from pd import services

    session = _session(w)
    return lambda: services.feedback_submit(session=session, rating=4, will_apply="yes")


@path("pd.services.leader_nominate")
def _(w):
    from pd import services

    staff = StaffMemberFactory(school=w.maple)
    return lambda: services.leader_nominate(
        school=w.maple, staff=staff, cohort_year=2025, why="Learns in the open.", by=w.coach
    )


@path("pd.services.poll_create")
def _(w):
    from pd import services

    today = timezone.localdate()
    return lambda: services.poll_create(
        school=w.maple, period="Spring", opens_on=today, closes_on=today + timedelta(7), by=w.coach
    )


@path("web:pd:session_new")
def _(w):
    client = w.login(w.coach)
    staff = StaffMemberFactory.create_batch(2, school=w.maple)
    data = {
        "schools": [w.maple.pk],
        "title": "Exit tickets",
        "date": timezone.localdate().isoformat(),
        "duration_minutes": 45,
        "format": "plc",
        "facilitator": f"u{w.coach.pk}",
        "attendees": [s.pk for s in staff],
        "job_embedded": "on",
    }
    return lambda: client.post(reverse("pd:session_new"), data)


@path("web:pd:attendance")
def _(w):
    session = _session(w, duration_minutes=120)
    a = AttendanceFactory(session=session, staff=StaffMemberFactory(school=w.maple))
    client = w.login(w.coach)
    url = reverse("pd:attendance", args=[session.pk])
    return lambda: client.post(url, {f"status-{a.pk}": "attended", f"hours-{a.pk}": "1.5"})


@path("web:pd:attendance (add)")
def _(w):
    session = _session(w)
    late = StaffMemberFactory(school=w.maple)
    client = w.login(w.coach)
    url = reverse("pd:attendance", args=[session.pk])
    return lambda: client.post(url, {"add": "1", "staff": [late.pk]})


# --- stakeholders ------------------------------------------------------------------------


@path("stakeholders.services.survey_create")
def _(w):
    from stakeholders import services

    today = timezone.localdate()
    survey = Survey(title="Listening", opens_on=today, closes_on=today + timedelta(14))
    return lambda: services.survey_create(
        survey=survey, schools=[w.maple], audiences=["teachers"], by=w.principal
    )


@path("stakeholders.services.survey_update")
def _(w):
    from stakeholders import services

    survey = SurveyFactory(schools=[w.maple])
    Invitation.objects.create(survey=survey, audience="teachers")

    def act():
        survey.closes_on = survey.closes_on + timedelta(days=3)
        return services.survey_update(
            survey=survey, schools=[w.maple, w.cedar], audiences=["teachers", "families"], kept=[]
        )

    return act


@path("stakeholders.services.survey_close")
def _(w):
    from stakeholders import services

    survey = SurveyFactory(schools=[w.maple])
    return lambda: services.survey_close(survey=survey)


@path("stakeholders.services.question_save")
def _(w):
    from stakeholders import services

    survey = SurveyFactory(schools=[w.maple])
    question = Question(survey=survey, kind="likert", text="I feel heard.", pillar="engagement")
    return lambda: services.question_save(question=question, choices=[])


@path("stakeholders.services.question_delete")
def _(w):
    from stakeholders import services

    question = QuestionFactory(survey=SurveyFactory(schools=[w.maple]))
    return lambda: services.question_delete(question=question)


@path("stakeholders.services.expected_update")
def _(w):
    from stakeholders import services

    survey = SurveyFactory(schools=[w.maple])
    Invitation.objects.create(survey=survey, audience="teachers")
    return lambda: services.expected_update(survey=survey, expected={"teachers": 40})


@path("stakeholders.services.person_links_add")
def _(w):
    from stakeholders import services

    survey = SurveyFactory(schools=[w.maple], anonymous=False)
    Invitation.objects.create(survey=survey, audience="families")
    people = [("Ana", "ana@example.org"), ("Bo", "bo@example.org")]
    return lambda: services.person_links_add(survey=survey, audience="families", people=people)


@path("stakeholders.services.response_submit")
def _(w):
    from stakeholders import services

    survey = SurveyFactory(schools=[w.maple])
    question = QuestionFactory(survey=survey)
    link = Invitation.objects.create(survey=survey, audience="families")
    return lambda: services.response_submit(invitation=link, answers={question.pk: 4})


@path("stakeholders.services.story_save")
def _(w):
    from stakeholders import services

    story = Story(
        school=w.maple,
        date=timezone.localdate(),
        title="A call home",
        what_happened="It went well.",
    )
    return lambda: services.story_save(
        story=story, roles=["families"], shares={"newsletter": ""}, by=w.principal
    )


@path("stakeholders.services.partnership_save")
def _(w):
    from stakeholders import services

    partnership = Partnership(
        school=w.maple,
        organisation="City library",
        kind=PartnerKind.NON_PROFIT,
        started_on=timezone.localdate(),
    )
    return lambda: services.partnership_save(partnership=partnership, benefits=["mentoring"])


@path("stakeholders.services.plan_save")
def _(w):
    from stakeholders import services

    plan = CommunicationPlan(school=w.maple, daily_tool="Class app")
    return lambda: services.plan_save(plan=plan, channels=["newsletter"], by=w.principal)


@path("web:stakeholders:respond")
def _(w):
    survey = SurveyFactory(schools=[w.maple])
    question = QuestionFactory(survey=survey)
    link = Invitation.objects.create(survey=survey, audience="families")
    client = w.login(w.principal)
    client.logout()
    return lambda: client.post(link.path(), {f"q{question.pk}": "4"})


# --- initiatives -------------------------------------------------------------------------


@path("initiatives.services.initiative_create")
def _(w):
    from initiatives import services

    return lambda: services.initiative_create(
        schools=[w.maple],
        data={"title": "1:1 Chromebooks", "why": "Writing every day."},
        pillars=["spaces"],
        by=w.principal,
    )


@path("initiatives.services.initiative_update")
def _(w):
    from initiatives import services

    item = InitiativeFactory(schools=[w.maple])

    def act():
        item.success_measures = "Writing samples twice a year."
        return services.initiative_update(initiative=item, pillars=["engagement"])

    return act


@path("initiatives.services.initiative_start")
def _(w):
    from initiatives import services
    from initiatives.models import Initiative

    def act():
        item = Initiative(district=w.district, title="Robotics club", why="Build and test.")
        services.initiative_start(initiative=item, by=w.principal)
        item.schools.add(w.maple)

    return act


@path("initiatives.services.initiative_move")
def _(w):
    from initiatives import services

    item = initiative_in(w.maple, status="idea", why="w")
    return lambda: services.initiative_move(initiative=item, to="planning", by=w.principal)


@path("initiatives.services.save_part")
def _(w):
    from initiatives import services

    line = BudgetLineFactory.build(initiative=InitiativeFactory(schools=[w.maple]))
    return lambda: services.save_part(line, funding_source="grant")


@path("initiatives.services.save_part (SWOT)")
def _(w):
    from initiatives import services

    swot = SwotFactory.build(school=w.maple, year=2031)
    return lambda: services.save_part(swot, created_by=w.principal)


@path("web:initiatives:move")
def _(w):
    item = initiative_in(w.maple, status="idea", why="w")
    client = w.login(w.principal)
    url = reverse("initiatives:move", args=[item.pk])
    return lambda: client.post(url, {"status": "planning"})


# --- schools -----------------------------------------------------------------------------


@path("schools.services.school_update")
def _(w):
    from schools import services

    return lambda: services.school_update(school=w.maple, data={"enrollment_3_5": 220})


@path("schools.services.district_update_settings")
def _(w):
    from schools import services

    return lambda: services.district_update_settings(
        district=w.district, data={"device_planning_ratio": Decimal("1.25")}
    )


@path("schools.services.staff_member_save")
def _(w):
    from schools import services
    from schools.models import StaffMember

    staff = StaffMember(school=w.maple, full_name="Rhea Novak", email="rhea@maple.example.org")
    return lambda: services.staff_member_save(staff=staff)


@path("web:schools:district_settings")
def _(w):
    client = w.login(w.district_admin)
    url = reverse("schools:district_settings", args=[w.district.pk])
    data = {
        "name": w.district.name,
        "device_planning_ratio": "1.15",
        "pd_hour_target": "24",
        "survey_min_group": "5",
    }
    return lambda: client.post(url, data)


@path("web:schools:staff_add")
def _(w):
    client = w.login(w.coach)
    url = reverse("schools:staff_add", args=[w.maple.pk])
    data = {"full_name": "Rhea Novak", "email": "rhea@maple.example.org", "position": "teacher"}
    return lambda: client.post(url, {**data, "active": "on"})


# A held run is held the same whatever the path; these are too slow to run twice.
REDIS_UP_ONLY = {"command:seed_demo": "the demo seed takes ~50 s against an unreachable cache"}


@path("command:seed_demo")
def _(w):
    return lambda: call_command("seed_demo", allow_production=True, stdout=StringIO())


# --- the admin: each model admin of evidence, a save and a delete -----------------------------


def _superuser(w):
    user = UserFactory(is_staff=True, is_superuser=True)
    return w.login(user)


@path("admin:equity.student (add)")
def _(w):
    client = _superuser(w)
    data = {"school": w.maple.pk, "district": w.district.pk, "local_id": "ADM-1", "grade": 3}
    data |= {"home_internet": "unknown", "active": "on"}
    return lambda: client.post(reverse("admin:equity_student_add"), data)


@path("admin:schools.district (change)")
def _(w):
    client = _superuser(w)
    url = reverse("admin:schools_district_change", args=[w.district.pk])
    data = {"name": w.district.name, "slug": w.district.slug, "device_planning_ratio": "1.3"}
    data |= {"pd_hour_target": "20", "survey_min_group": "5", "time_zone": w.district.time_zone}
    data |= {"date_order": w.district.date_order}
    return lambda: client.post(url, data)


# Deleting one row through the admin, for each admin of evidence (District excepted: deleting
# a district deletes its readiness with it).
ADMIN_ROWS = {
    "schools.school": lambda w: SchoolFactory(district=w.district),
    "schools.staffmember": lambda w: StaffMemberFactory(school=w.maple),
    "equity.devicemodel": lambda w: DeviceModelFactory(district=w.district),
    "equity.device": lambda w: DeviceFactory(school=w.maple),
    "equity.student": lambda w: StudentFactory(school=w.maple),
    "equity.assignment": lambda w: open_assignment(w.maple),
    "pd.pdsession": lambda w: PDSessionFactory(schools=[w.maple]),
    "pd.feedback": lambda w: Feedback.objects.create(
        session=PDSessionFactory(schools=[w.maple]), rating=4, submitted_on=timezone.localdate()
    ),
    "pd.learningleader": lambda w: LearningLeaderFactory(staff=StaffMemberFactory(school=w.maple)),
    "pd.pdneedspoll": lambda w: PDNeedsPollFactory(school=w.maple),
    "initiatives.initiative": lambda w: InitiativeFactory(schools=[w.maple]),
    "initiatives.swot": lambda w: SwotFactory(school=w.maple, year=2031),
    "initiatives.reflection": lambda w: ReflectionFactory(
        school=w.maple, initiative=InitiativeFactory(schools=[w.maple])
    ),
}


def _admin_delete(label):
    def arrange(w):
        row = ADMIN_ROWS[label](w)
        client = _superuser(w)
        app_label, model_name = label.split(".")
        url = reverse(f"admin:{app_label}_{model_name}_delete", args=[row.pk])

        def act():
            response = client.post(url, {"post": "yes"})
            assert not type(row)._base_manager.filter(pk=row.pk).exists(), "not deleted"
            return response

        return act

    return arrange


for _label in ADMIN_ROWS:
    path(f"admin:{_label} (delete)")(_admin_delete(_label))


# --- what is not evidence, and why -------------------------------------------------------

READS = "reads only"
NOT_EVIDENCE = {
    # api: its writes to the apps go through their services, classified above
    "api.services.token_create": "a personal API token; no indicator reads it",
    "api.services.token_revoke": "a personal API token; no indicator reads it",
    "api.services.token_touch": "a token's last use; no indicator reads it",
    "command:create_api_token": "makes a personal API token; no indicator reads it",
    # equity
    "equity.inventory.services.device_record_seen": "an audit sighting; no indicator reads it",
    "equity.inventory.services.audit_scan": "an audit sighting; no indicator reads it",
    "equity.inventory.services.device_move_refusal": READS,
    "equity.inventory.services.device_row_problems": READS,
    "equity.inventory.bulk.devices_existing": READS,
    "equity.inventory.bulk.device_serial_holders": READS,
    "equity.inventory.bulk.device_changes": READS,
    "equity.inventory.bulk.students_existing": READS,
    "equity.inventory.bulk.student_target": READS,
    "equity.year.services.accept_by_link": "the device agreement; no indicator reads it",
    "equity.year.services.accept_signed": "the device agreement; no indicator reads it",
    "equity.year.services.acceptance_for": "the agreement's paperwork; no indicator reads it",
    "equity.year.services.charge_assess": "a charge; no indicator reads it",
    "equity.year.services.charge_resolve": "a charge; no indicator reads it",
    "equity.year.services.decode_signature": READS,
    "equity.year.rollover.plan_rollover": READS,
    "equity.year.services.publish_agreement": "the agreement's text; no indicator reads it",
    "equity.year.rollover.read_leavers": READS,
    "equity.year.services.set_price": "the price list; no indicator reads it",
    "equity.imports.tasks.progress_key": READS,
    "equity.imports.services.import_job_queue": "queues a job; its run (run_import) is a path",
    # pd
    "pd.services.checkin_code_request": "e-mails a code; the attendance comes with the code",
    "pd.services.send_checkin_code_email": "sends an e-mail",
    "pd.tasks.send_checkin_code": "sends an e-mail",
    "pd.services.feedback_link_request": "e-mails a personal link; the feedback comes later",
    "pd.services.send_feedback_link_email": "sends an e-mail",
    "pd.tasks.send_feedback_link": "sends an e-mail",
    "pd.services.feedback_link_token": READS,
    "pd.services.feedback_link_path": READS,
    "pd.services.attendance_by_feedback_link": READS,
    "pd.services.named_feedback_of": READS,
    "pd.services.normalize_email": READS,
    "pd.services.checkin_set": "opens or closes the check-in link; attendance comes later",
    "pd.services.feedback_request": "queues e-mails; the feedback comes later",
    "pd.services.send_feedback_emails": "sends e-mails; the feedback comes later",
    "pd.services.session_by_token": READS,
    "pd.services.poll_by_token": READS,
    "pd.services.poll_answer": "an answer to a needs poll; the indicator counts polls",
    "pd.tasks.send_feedback_requests": "sends e-mails; the feedback comes later",
    "pd.tasks.move_hours_windows": "the reports' kept PD hours; readiness reads attendance",
    "command:keep_pd_hours": "the reports' kept PD hours; readiness reads attendance",
    "pd.tasks.refresh_district_report": "the PD report's summary; readiness reads attendance",
    # stakeholders
    "stakeholders.services.copy_starter": "a step of survey_create, which marks the district",
    "stakeholders.services.invitation_by_token": READS,
    "stakeholders.services.log_add": "the communication log; no indicator reads it",
    "stakeholders.services.partnership_check": READS,
    "stakeholders.services.question_move": "the order of questions; no indicator reads it",
    "stakeholders.services.you_said_save": "the 'you said, we did' note; no indicator reads it",
    "stakeholders.services.send_person_invitations_email": "sends e-mails; answers come later",
    "stakeholders.tasks.send_person_invitations": "sends e-mails; answers come later",
    # today: a person's e-mail settings and what was sent to them
    "today.services.notice_settings_save": "a person's e-mail settings",
    "today.services.unsubscribe": "a person's e-mail settings",
    "today.tasks.weekly_digests": "queues e-mail; reads only",
    "today.tasks.daily_reminders": "queues e-mail; reads only",
    "today.tasks.district_digests": "sends e-mail; reads only",
    "today.tasks.district_reminders": "sends e-mail; reads only",
    "command:send_digests": "sends e-mail; reads only",
    # initiatives
    "initiatives.services.move_problems": READS,
    # accounts: people and memberships are not evidence (the staff roster is)
    "accounts.services.account_switch_refusal": READS,
    "accounts.services.roles_elsewhere": READS,
    "accounts.services.send_password_reset_email": "e-mail",
    "accounts.tasks.send_password_reset": "e-mail",
    "accounts.services.end_sessions": "sign-in sessions",
    "accounts.services.invite_user": "accounts and memberships",
    "accounts.services.membership_remove": "accounts and memberships",
    "accounts.services.send_invitation_email": "e-mail",
    "accounts.services.set_active": "accounts and memberships",
    "accounts.services.set_password_url": READS,
    "accounts.tasks.send_invitation": "e-mail",
    # identity: how people sign in is not evidence
    "identity.services.admit": "links a provider's account to an invited one",
    "identity.services.delete_provider": "sign-in settings",
    "identity.services.ensure_settings": "sign-in settings",
    "identity.services.note_protocol_error": "the audit log",
    "identity.services.save_provider": "sign-in settings",
    "identity.services.save_settings": "sign-in settings",
    "identity.services.spend_assertion": "spent SAML assertions",
    # audit
    "audit.purge.due_for_retention": READS,
    "audit.purge.years_before": READS,
    # rostering: settings and queueing; the runs themselves are paths
    "rostering.services.source_save": "a source's settings; its runs are paths",
    "rostering.services.source_approve": "turns on the nightly run; its runs are paths",
    "rostering.services.run_approve": "queues an applying run (run_roster, a path)",
    "rostering.services.run_create": "records a queued run; run_execute is the path",
    "rostering.services.enqueue_run": "queues a run; run_roster is the path",
    "rostering.services.run_mark_failed": "records a failed run; nothing was applied",
    "rostering.services.reader_for": READS,
    "rostering.tasks.nightly": "queues each approved source's run (run_roster, a path)",
    # core: the task outbox
    "core.tasks.flush_pending_tasks": "re-sends held tasks; each task is a path of its own",
    # commands
    "command:device_coverage": READS,
    "command:pd_hours": READS,
    "command:flush_pending_jobs": "re-sends held tasks; each task is a path of its own",
    "command:seed_scale": "benchmark data; the command computes readiness itself at the end",
    # admin
    "admin:schools.membership": "accounts and memberships",
    "admin:accounts.user": "accounts and memberships",
    "admin:core.auditevent": "the audit log",
    "admin:audit.purgerecord": "the record of a purge",
    "admin:audit.retention": "the retention rule; the purges it leads to are paths",
    "admin:equity.deviceevent": "read-only history",
    "admin:equity.deviceagreement": "the agreement's text; no indicator reads it",
    "admin:equity.pricelistentry": "the price list; no indicator reads it",
    "admin:equity.stationevent": "a handout or collection day; its scans are paths",
    "admin:equity.charge": "a charge; no indicator reads it",
    "admin:equity.rolloverrun": "the record of a rollover",
    "admin:pd.pdneedsresponse": "an answer to a needs poll; the indicator counts polls",
    "admin:pd.pdsessionchange": "the session's edit history",
    # googlesync: what the sync writes to the inventory is a path above; these write
    # Google's side (the connection, the org-unit map, Google's record, the run's record).
    "googlesync.services.read_key_file": "reads a key file",
    "googlesync.services.connection_save": "the connection; no indicator reads it",
    "googlesync.services.org_unit_map": "the org-unit map; the next sync is the path",
    "googlesync.services.seen": "reads one device of Google's answer",
    "googlesync.services.split_model": "reads a model name",
    "googlesync.services.run_start": "queues a run; the run is a path",
    "googlesync.services.approve": "the approval of the preview",
    "googlesync.services.run_finish": "the run's record",
    "googlesync.tasks.progress_key": "a cache key",
    "googlesync.tasks.sync_all_districts": "queues runs; each run is a path",
    "googlesync.services.count_aue": "the reports' AUE tally; readiness reads the devices",
    "googlesync.tasks.count_aue_all_districts": "the reports' AUE tally; readiness reads devices",
    "googlesync.actions.google_record": "reads Google's record",
    "googlesync.actions.google_disable": "Google's status and the device's history, not its status",
    "googlesync.actions.google_reenable": "Google's status and the device's history",
    "googlesync.actions.google_write_back": "Google's annotated fields and the history",
    "admin:googlesync.googleconnection": "the connection",
    "admin:googlesync.orgunit": "the org-unit map",
    "admin:googlesync.googledevice": "Google's record of a device",
    "admin:googlesync.syncrun": "the record of a run",
}

WRITE_MODULES = [
    "equity.inventory.services",
    "equity.inventory.bulk",
    "equity.year.services",
    "equity.year.rollover",
    "equity.imports.tasks",
    "equity.imports.services",
    "pd.services",
    "pd.tasks",
    "stakeholders.services",
    "initiatives.services",
    "schools.services",
    "accounts.services",
    "accounts.tasks",
    "identity.services",
    "audit.purge",
    "audit.tasks",
    "core.tasks",
    "api.services",
    "googlesync.services",
    "googlesync.actions",
    "googlesync.tasks",
    "stakeholders.tasks",
    "today.services",
    "today.tasks",
    "rostering.services",
    "rostering.tasks",
]
PROJECT_APPS = {
    "accounts",
    "identity",
    "schools",
    "core",
    "initiatives",
    "stakeholders",
    "pd",
    "equity",
    "audit",
    "api",
    "googlesync",
    "today",
    "rostering",
}


def _public_functions(module_name: str) -> set[str]:
    from celery.app.task import Task

    module = importlib.import_module(module_name)
    found = set()
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        # A task defined here (its registered name may be older than the module's path).
        is_task = isinstance(value, Task) and value.run.__module__ == module_name
        if is_task or (inspect.isfunction(value) and value.__module__ == module_name):
            found.add(f"{module_name}.{name}")
    return found


def test_every_write_function_and_command_is_classified():
    found = set().union(*(_public_functions(m) for m in WRITE_MODULES))
    found |= {"equity.imports.devices.import_devices", "equity.imports.students.import_students"}
    found |= {
        f"command:{name}"
        for name, app_name in get_commands().items()
        if apps.is_installed(app_name) and app_name.split(".")[0] in PROJECT_APPS
    }
    found |= {
        f"admin:{model._meta.label_lower}"
        for model in admin.site._registry
        if model._meta.app_label in PROJECT_APPS
    }
    classified = {name.split(" (")[0] for name in PATHS} | set(NOT_EVIDENCE)
    assert sorted(found - classified) == [], "classify these in PATHS or NOT_EVIDENCE"
    assert sorted(set(NOT_EVIDENCE) - found) == [], "these no longer exist"


def test_the_admin_of_each_evidence_path_announces_its_district(district, maple):
    """An admin named as a path announces (it is an EvidenceAdmin), and its lookup answers
    the district of a row."""
    for name in PATHS:
        if not name.startswith("admin:"):
            continue
        model = apps.get_model(name.split(" (")[0].removeprefix("admin:"))
        model_admin = admin.site._registry[model]
        assert isinstance(model_admin, EvidenceAdmin), name
        model._base_manager.values_list(model_admin.evidence, flat=True).first()  # a lookup
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, EvidenceAdmin):
            assert f"admin:{model._meta.label_lower}" not in NOT_EVIDENCE, model


# --- running a path ----------------------------------------------------------------------


@pytest.fixture
def world(district, maple, cedar, principal, coach, tech, district_admin, login, tmp_path):
    return World(district, maple, cedar, principal, coach, tech, district_admin, login, tmp_path)


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _point_broker_at(url):
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(params=["redis up", "redis unreachable"])
def redis(request, settings, closed_port, monkeypatch):
    """Redis as the app sees it. Up: tasks are published (in-process here; the publishing
    of compute_run is recorded). Unreachable: the broker and the cache point at a port
    where nothing listens, as a stopped Redis looks to a running app."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    published = []
    if request.param == "redis up":
        monkeypatch.setattr(compute_run, "apply_async", lambda *a, **kw: published.append((a, kw)))
    else:
        nowhere = f"redis://127.0.0.1:{closed_port}/0"
        settings.CACHES = {
            "default": {
                "BACKEND": "config.cache.ResilientRedisCache",
                "LOCATION": nowhere,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        app.conf.task_always_eager = False
        _point_broker_at(nowhere)
    yield request.param, published
    _point_broker_at(saved[0])
    app.conf.task_always_eager = saved[1]


def _change_runs():
    return ReadinessRun.objects.filter(kind=RunKind.CHANGE)


@pytest.mark.parametrize("name", list(PATHS))
def test_each_evidence_write_path_leads_to_exactly_one_debounced_recompute(
    name, world, redis, django_capture_on_commit_callbacks
):
    mode, published = redis
    if mode == "redis unreachable" and name in REDIS_UP_ONLY:
        pytest.skip(REDIS_UP_ONLY[name])
    act = PATHS[name](world)
    # What the arrangement queued belongs to the test's own transaction, which never
    # commits: only the act's commit counts.
    connection.run_on_commit.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = act()
    connection.run_on_commit.clear()
    if hasattr(result, "status_code"):  # a page: it answered, and not with a form error
        assert result.status_code in (200, 302), result.status_code
        form = (result.context or {}).get("form") if result.status_code == 200 else None
        assert not (form is not None and form.errors), form.errors
        admin_errors = (result.context or {}).get("errors") if result.status_code == 200 else None
        assert not admin_errors, admin_errors

    run = _change_runs().get()  # exactly one run, waiting
    assert (run.district_id, run.status) == (world.district.pk, RunStatus.QUEUED)
    if mode == "redis up":
        assert len(published) == 1
        args, options = published[0]
        assert args[0] == (run.pk,) or list(args[0]) == [run.pk]
        assert options["countdown"] == readiness.debounce_seconds()
        return
    held = PendingTask.objects.filter(name=compute_run.name)
    assert [t.args for t in held] == [[run.pk]]
    # Redis is back: the held run is sent and computed (in-process here).
    _point_broker_at("memory://")
    app.conf.task_always_eager = True
    assert queue.flush() >= 1
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert _change_runs().count() == 1


def _a_change(world, i=0):
    """One write of evidence through its service (a staff member joins the roster)."""
    from schools.models import StaffMember
    from schools.services import staff_member_save

    staff = StaffMember(school=world.maple, full_name=f"Staff {i}", email=f"s{i}@maple.example.org")
    staff_member_save(staff=staff)


def test_changes_while_a_run_waits_join_it_with_redis_unreachable(
    world, settings, closed_port, django_capture_on_commit_callbacks
):
    """Five separate commits while Redis is down: one run held, not five, not none."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
        }
    }
    app.conf.task_always_eager = False
    _point_broker_at(f"redis://127.0.0.1:{closed_port}/0")
    try:
        connection.run_on_commit.clear()
        for i in range(5):
            with django_capture_on_commit_callbacks(execute=True):
                _a_change(world, i)
            connection.run_on_commit.clear()
    finally:
        _point_broker_at(saved[0])
        app.conf.task_always_eager = saved[1]
    assert _change_runs().count() == 1
    assert PendingTask.objects.filter(name=compute_run.name).count() == 1


def test_a_waiting_run_whose_message_was_lost_is_replaced(
    world, django_capture_on_commit_callbacks
):
    """A run waiting long past its countdown, not held, lost its message (a broker that
    restarted empty): the next change queues a new one instead of waiting for ever."""
    lost = ReadinessRun.objects.create(
        district=world.district,
        kind=RunKind.CHANGE,
        created_at=timezone.now() - readiness.LOST_AFTER - timedelta(hours=1),
    )
    connection.run_on_commit.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _a_change(world)
    connection.run_on_commit.clear()
    lost.refresh_from_db()
    assert lost.status == RunStatus.FAILED and "lost" in lost.error
    assert _change_runs().exclude(pk=lost.pk).get().status == RunStatus.DONE  # in-process


def test_a_run_held_for_a_long_outage_is_not_replaced(
    world, settings, closed_port, django_capture_on_commit_callbacks
):
    held = ReadinessRun.objects.create(
        district=world.district,
        kind=RunKind.CHANGE,
        created_at=timezone.now() - readiness.LOST_AFTER - timedelta(hours=1),
    )
    PendingTask.objects.create(
        name=compute_run.name, args=[held.pk], key=queue.task_key(compute_run.name, [held.pk])
    )
    connection.run_on_commit.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _a_change(world)
    connection.run_on_commit.clear()
    assert list(_change_runs()) == [held]
    held.refresh_from_db()
    assert held.status == RunStatus.QUEUED
