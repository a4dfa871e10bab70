"""The jobs: set-based district runs, idempotence, failures on the run, debounce, command."""

import csv
import io
import json
import weakref
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from equity.imports import tasks as equity_tasks
from equity.imports.models import ImportJob
from equity.inventory.models import Student
from initiatives.models import ComplianceItem, ComplianceKind
from pd.models import Feedback
from readiness import services, tasks
from readiness.indicators import REGISTRY, cohort_year
from readiness.models import IndicatorTarget, ReadinessRun, RunKind, RunStatus, Snapshot
from schools.pillars import Pillar
from schools.signals import evidence_changed
from software.models import App, Decision, DpaStatus
from stakeholders.models import (
    Answer,
    CommunicationPlan,
    Invitation,
    PlanChannelUse,
    StoryPerson,
    StoryShare,
)
from tests.factories import (
    AttendanceFactory,
    BudgetLineFactory,
    DeviceFactory,
    DistrictFactory,
    LearningLeaderFactory,
    PartnershipFactory,
    PDNeedsPollFactory,
    PDSessionFactory,
    QuestionFactory,
    ReflectionFactory,
    ResponseFactory,
    SchoolFactory,
    StaffMemberFactory,
    StoryFactory,
    StudentFactory,
    SurveyFactory,
    SwotFactory,
)

from .helpers import initiative, survey

pytestmark = pytest.mark.django_db


def _evidence(school):
    """A little of every kind of evidence for one school."""
    DeviceFactory.create_batch(2, school=school)
    StudentFactory(school=school, home_internet="no")
    staff = StaffMemberFactory(school=school)
    session = PDSessionFactory(schools=[school], job_embedded=True)
    AttendanceFactory(session=session, staff=staff)
    Feedback.objects.create(session=session, rating=4, submitted_on=timezone.localdate())
    LearningLeaderFactory(staff=staff)
    PDNeedsPollFactory(school=school)
    item = initiative(school, why="w", goals="g", measures="m")
    BudgetLineFactory(initiative=item, funding_source="grant")
    app = App.objects.create(
        district=school.district,
        name=f"App of {school.code}",
        decision=Decision.APPROVED,
        dpa_status=DpaStatus.SIGNED,
        dpa_expires_on=timezone.localdate() + timedelta(days=300),
    )
    ComplianceItem.objects.create(initiative=item, kind=ComplianceKind.DATA_PRIVACY, app=app)
    ReflectionFactory(school=school, initiative=item)
    listened = survey([school])
    Invitation.objects.create(survey=listened, audience="students", expected=10)
    Invitation.objects.create(survey=listened, audience="families", expected=10)
    question = QuestionFactory(survey=listened)
    feeling = QuestionFactory(survey=listened, pillar="branding", sentiment=True)
    for _ in range(5):
        response = ResponseFactory(survey=listened, audience="students")
        Answer.objects.create(response=response, question=question, likert=4)
        response = ResponseFactory(survey=listened, audience="families")
        Answer.objects.create(response=response, question=feeling, likert=5)
    story = StoryFactory(school=school)
    StoryShare.objects.create(story=story, channel="newsletter")
    StoryPerson.objects.create(story=story, role="students")
    PartnershipFactory(school=school)
    plan = CommunicationPlan.objects.create(school=school, daily_tool="Class app")
    PlanChannelUse.objects.create(plan=plan, channel="newsletter")
    SwotFactory(school=school, year=cohort_year(timezone.localdate()))


def _district_with(n):
    district = DistrictFactory()
    for _ in range(n):
        _evidence(SchoolFactory(district=district))
    return district


def _run(district, **kw):
    return services.run_now(district_id=district.pk, kind=RunKind.COMMAND, **kw)


def test_a_district_run_costs_the_same_queries_for_3_and_30_schools():
    small, large = _district_with(3), _district_with(30)
    counts = []
    for district in (small, large):
        with CaptureQueriesContext(connection) as queries:
            run = _run(district)
        counts.append(len(queries))
        assert run.snapshots_stored == district.schools.count()
    assert counts[0] == counts[1]


def test_every_school_of_a_district_run_gets_seven_pillars_and_every_indicator():
    district = _district_with(2)
    _run(district)
    for snapshot in Snapshot.objects.filter(school__district=district):
        assert set(snapshot.pillars) == set(Pillar.values)
        assert {i["key"] for i in snapshot.indicators} == set(REGISTRY)
        assert all(snapshot.pillars[p] is not None for p in Pillar.values)
        assert [i["key"] for i in snapshot.indicators if i["value"] is None] == []
        assert 0 <= snapshot.overall <= 100


def test_a_district_target_changes_the_score(maple):
    StudentFactory.create_batch(9, school=maple, home_internet="yes")
    StudentFactory(school=maple, home_internet="no")
    first = services.compute([maple])[0]
    IndicatorTarget.objects.create(
        district=maple.district, indicator="home_connectivity", target=0.9
    )
    second = services.compute([maple])[0]
    by_key = {i.key: i for i in first.indicators}
    assert by_key["home_connectivity"].score == pytest.approx(100 * 0.9 / 0.95, abs=0.1)
    assert {i.key: i for i in second.indicators}["home_connectivity"].score == 100.0


def test_a_target_outside_the_indicators_range_is_refused(maple):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        IndicatorTarget.objects.create(district=maple.district, indicator="pd_feedback", target=7)
    with pytest.raises(ValidationError):
        IndicatorTarget.objects.create(district=maple.district, indicator="nope", target=1)


def test_row_order_in_the_database_does_not_change_the_result(district):
    one, two = SchoolFactory(district=district), SchoolFactory(district=district)
    staff_one = StaffMemberFactory.create_batch(3, school=one)
    staff_two = StaffMemberFactory.create_batch(3, school=two)
    sessions = [
        PDSessionFactory(schools=[s], duration_minutes=60 * (i + 1))
        for i, s in enumerate([one, one, one])
    ]
    for staff, session in zip(staff_one, sessions, strict=True):
        AttendanceFactory(session=session, staff=staff)
    sessions_two = [
        PDSessionFactory(schools=[two], duration_minutes=60 * (i + 1)) for i in range(3)
    ]
    for staff, session in reversed(list(zip(staff_two, sessions_two, strict=True))):
        AttendanceFactory(session=session, staff=staff)
    a, b = services.compute([one, two])
    assert a.pillars == b.pillars and a.overall == b.overall


# --- idempotence -------------------------------------------------------------------------


def test_recomputing_unchanged_data_stores_no_new_snapshot(maple):
    _evidence(maple)
    first = services.run_now(district_id=maple.district_id, kind=RunKind.NIGHTLY)
    second = services.run_now(district_id=maple.district_id, kind=RunKind.NIGHTLY)
    assert (first.snapshots_stored, second.snapshots_stored) == (1, 0)
    assert second.schools_unchanged == 1
    assert Snapshot.objects.filter(school=maple).count() == 1
    assert Snapshot.objects.get(school=maple).confirmed_at >= second.started_at

    StudentFactory(school=maple, home_internet="yes")
    third = services.run_now(district_id=maple.district_id, kind=RunKind.NIGHTLY)
    assert third.snapshots_stored == 1
    assert Snapshot.objects.filter(school=maple).count() == 2


def test_redelivery_of_the_same_task_stores_one_result(maple):
    _evidence(maple)
    run = ReadinessRun.objects.create(district=maple.district, kind=RunKind.NIGHTLY)
    assert tasks.compute_run.apply((run.pk,)).get() is True
    assert tasks.compute_run.apply((run.pk,)).get() is False  # done: left alone
    # Even a run that is re-delivered while marked running stores one snapshot per school.
    ReadinessRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    tasks.compute_run.apply((run.pk,))
    assert Snapshot.objects.filter(run=run).count() == 1


def test_the_same_data_gives_the_same_fingerprint(maple):
    _evidence(maple)
    assert services.compute([maple])[0].fingerprint == services.compute([maple])[0].fingerprint


# --- failures ----------------------------------------------------------------------------


def test_a_failure_is_written_on_the_run(maple, monkeypatch):
    def broken(schools, ctx):
        raise ValueError("boom")

    spec = REGISTRY["needs_poll"]
    monkeypatch.setitem(REGISTRY, "needs_poll", type(spec)(**{**spec.__dict__, "compute": broken}))
    run = ReadinessRun.objects.create(district=maple.district, kind=RunKind.MANUAL)
    with pytest.raises(ValueError):  # the suite propagates eager task errors
        tasks.compute_run.apply((run.pk,))
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "ValueError" in run.error and run.attempts == 1
    assert not Snapshot.objects.exists()


def test_transient_database_errors_are_retried_with_a_bound(maple, monkeypatch):
    from celery.exceptions import Retry

    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        raise OperationalError("connection reset")

    monkeypatch.setattr(services, "compute", flaky)
    run = ReadinessRun.objects.create(district=maple.district, kind=RunKind.NIGHTLY)
    task = tasks.compute_run
    # Each delivery before the last asks for a retry and leaves the run waiting ...
    for attempt in range(task.max_retries):
        with pytest.raises(Retry):
            task.apply((run.pk,), retries=attempt)
        run.refresh_from_db()
        assert run.status == RunStatus.QUEUED and "retrying" in run.error
    # ... the last one gives up and says so on the run.
    with pytest.raises(OperationalError):
        task.apply((run.pk,), retries=task.max_retries)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "unavailable" in run.error
    assert len(calls) == task.max_retries + 1


def test_other_errors_are_not_retried(maple, monkeypatch):
    monkeypatch.setattr(services, "compute", mock.Mock(side_effect=KeyError("x")))
    run = ReadinessRun.objects.create(district=maple.district, kind=RunKind.NIGHTLY)
    with pytest.raises(KeyError):
        tasks.compute_run.apply((run.pk,))
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.attempts == 1


def test_the_task_options_bound_retries_and_time():
    task = tasks.compute_run
    assert task.acks_late is True
    assert task.autoretry_for == (OperationalError,)
    assert task.max_retries and task.soft_time_limit < task.time_limit


def test_the_nightly_schedule_queues_every_district(
    district, maple, django_capture_on_commit_callbacks
):
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["readiness-nightly"]
    assert entry["task"] == "readiness.tasks.compute_all_districts"
    other = DistrictFactory()
    with (
        mock.patch.object(tasks.compute_run, "apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.compute_all_districts() == 2
    assert queued.call_count == 2
    assert set(ReadinessRun.objects.values_list("district_id", flat=True)) == {
        district.pk,
        other.pk,
    }


# --- debounce ----------------------------------------------------------------------------


@pytest.fixture
def enqueued():
    # The test's own transaction never commits: callbacks that fixtures queued while
    # building data would never run, and would make note_change believe a run is queued.
    connection.run_on_commit.clear()
    with mock.patch.object(tasks.compute_run, "apply_async") as spy:
        yield spy


def started(district_id):
    """The district's waiting change run starts (as a worker would): the next change
    queues a new one."""
    ReadinessRun.objects.filter(
        district_id=district_id, kind=RunKind.CHANGE, status=RunStatus.QUEUED
    ).update(status=RunStatus.RUNNING)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's on-commit callbacks as a real commit would, then forget them (the
    test transaction keeps them listed, which a real commit does not)."""
    from contextlib import contextmanager

    @contextmanager
    def block():
        with django_capture_on_commit_callbacks(execute=True):
            yield
        connection.run_on_commit.clear()

    return block


def _changed(school):
    """One write of evidence, announced as every write path announces it."""
    StudentFactory(school=school)
    evidence_changed.send(sender=Student, school_ids=[school.pk])


def test_a_thousand_saves_in_one_transaction_enqueue_one_delayed_run(maple, enqueued, committed):
    with committed(), transaction.atomic():
        for i in range(1000):
            Student(school=maple, local_id=f"S{i}", grade=3).save()
            evidence_changed.send(sender=Student, school_ids=[maple.pk])
    assert enqueued.call_count == 1
    assert enqueued.call_args.kwargs["countdown"] == services.debounce_seconds()
    run = ReadinessRun.objects.get(pk=enqueued.call_args.args[0][0])
    assert (run.kind, run.district_id, run.status) == (RunKind.CHANGE, maple.district_id, "queued")


def test_changes_after_commit_wait_for_the_run_already_queued(maple, cedar, enqueued, committed):
    for _ in range(5):
        with committed():
            _changed(maple)
            _changed(cedar)
    assert enqueued.call_count == 1
    # Once that run starts, the next change queues a new one.
    services.execute_run(enqueued.call_args.args[0][0])
    with committed():
        _changed(maple)
    assert enqueued.call_count == 2


def test_a_rolled_back_change_queues_nothing(maple, enqueued, committed):
    with committed():
        try:
            with transaction.atomic():
                _changed(maple)
                raise RuntimeError
        except RuntimeError:
            pass
    assert enqueued.call_count == 0


def test_a_thousand_row_csv_import_enqueues_one_run(district_admin, maple, enqueued, committed):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student_id", "school", "grade", "needs_touch", "home_internet"])
    writer.writerows([f"5{i:05d}", "MAPLE", "3", "no", "yes"] for i in range(1000))
    job = ImportJob.objects.create(
        school=maple, kind="students", content=out.getvalue(), created_by=district_admin
    )
    with committed():
        equity_tasks.run_import.delay(job.pk)
    assert Student.objects.filter(school=maple).count() == 1000
    assert enqueued.call_count == 1


def test_an_announced_change_marks_the_district_of_its_schools(
    maple, elsewhere, enqueued, committed
):
    with committed():
        evidence_changed.send(sender=Student, school_ids=[elsewhere.pk])
    assert enqueued.call_count == 1
    run = ReadinessRun.objects.get(pk=enqueued.call_args.args[0][0])
    assert run.district_id == elsewhere.district_id


def test_a_check_out_marks_the_district_of_its_device(maple, elsewhere, enqueued, committed):
    from tests.factories import open_assignment

    device = DeviceFactory(school=elsewhere)
    student = StudentFactory(school=elsewhere)
    connection.run_on_commit.clear()
    with committed():
        open_assignment(elsewhere, device=device, student=student)
    assert enqueued.call_count == 1
    run = ReadinessRun.objects.get(pk=enqueued.call_args.args[0][0])
    assert run.district_id == elsewhere.district_id


def test_a_submitted_survey_response_marks_the_district_once(maple, elsewhere, enqueued, committed):
    from stakeholders.services import response_submit

    shared = SurveyFactory(schools=[elsewhere])
    question = QuestionFactory(survey=shared)
    QuestionFactory(survey=shared)
    link = Invitation.objects.create(survey=shared, audience="families")
    connection.run_on_commit.clear()
    with committed():
        # The answers are written with bulk_create (no signal); the response is not.
        response_submit(invitation=link, answers={question.pk: 4})
    assert Answer.objects.filter(response__survey=shared).count() == 1
    assert enqueued.call_count == 1
    run = ReadinessRun.objects.get(pk=enqueued.call_args.args[0][0])
    assert run.district_id == elsewhere.district_id


def _bare_writes(school):
    """One save of each evidence model, with no write path around it (what the model
    signals used to catch; a write path announces, tests/readiness/test_every_write_path.py)."""
    story = StoryFactory(school=school)
    plan = CommunicationPlan.objects.create(school=school, daily_tool="Class app")
    item = initiative(school, status="planning", why="w", goals="g")
    listened = survey([school])
    return [
        lambda: StudentFactory(school=school),
        lambda: DeviceFactory(school=school),
        lambda: StaffMemberFactory(school=school),
        lambda: PDSessionFactory(schools=[school]),
        lambda: ResponseFactory(survey=listened, audience="students"),
        lambda: Invitation.objects.create(survey=listened, audience="teachers", expected=5),
        lambda: StoryShare.objects.create(story=story, channel="newsletter"),
        lambda: PlanChannelUse.objects.create(plan=plan, channel="website"),
        lambda: BudgetLineFactory(initiative=item),
        lambda: SwotFactory(school=school, year=2031),
        lambda: story.delete(),
        lambda: listened.delete(),
    ]


def _receivers(signal):
    for _key, ref, *_ in signal.receivers:
        receiver = ref() if isinstance(ref, weakref.ReferenceType) else ref
        if receiver is not None:
            yield receiver


def test_readiness_listens_to_evidence_changed_alone(maple, elsewhere, enqueued, committed):
    """No model's save or delete, and no task's end, reaches readiness: only the announce."""
    from celery.signals import task_postrun
    from django.db.models import signals

    model_signals = [
        signals.post_save,
        signals.pre_save,
        signals.post_delete,
        signals.pre_delete,
        signals.m2m_changed,
        task_postrun,
    ]
    for signal in model_signals:
        modules = {getattr(r, "__module__", "") for r in _receivers(signal)}
        assert not {m for m in modules if m.startswith("readiness")}, signal
    assert {r.__module__ for r in _receivers(evidence_changed)} == {"readiness.signals"}
    writes = _bare_writes(elsewhere)
    connection.run_on_commit.clear()
    for write in writes:
        with committed():
            write()
    assert enqueued.call_count == 0


# --- the command -------------------------------------------------------------------------


def test_the_command_prints_one_json_object_per_school(maple, cedar, capsys):
    _evidence(maple)
    call_command("compute_readiness", "--district", maple.district.name, "--json")
    rows = json.loads(capsys.readouterr().out)
    assert [r["school"] for r in rows] == ["CEDAR", "MAPLE"]
    for row in rows:
        assert set(row) == {"school", "overall", "pillars", "computed_at"}
        assert list(row["pillars"]) == list(Pillar.values)
        assert all(v is None or 0 <= v <= 100 for v in row["pillars"].values())
    cedar_row, maple_row = rows
    assert maple_row["overall"] is not None and maple_row["pillars"]["branding"] is not None
    # Cedar has no initiative and no student answers: no evidence, not 0.
    assert cedar_row["pillars"]["engagement"] is None
    assert cedar_row["pillars"]["branding"] == 0  # no SWOT this year is measured
    assert timezone.datetime.fromisoformat(maple_row["computed_at"])


def test_the_command_for_one_school_and_its_errors(maple, cedar, capsys):
    call_command("compute_readiness", "--school", "MAPLE", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert [r["school"] for r in rows] == ["MAPLE"]
    assert ReadinessRun.objects.get().school == maple
    with pytest.raises(CommandError):
        call_command("compute_readiness", "--school", "NOPE")
    with pytest.raises(CommandError):
        call_command("compute_readiness", "--district", "Nowhere")
    with pytest.raises(CommandError):
        call_command("compute_readiness", "--school", "MAPLE", "--district", "Riverbend")


def test_the_demo_history_spans_past_weeks():
    call_command("seed_demo", allow_production=True)
    snapshots = Snapshot.objects.filter(school__code="MGE")
    assert snapshots.count() >= 3
    days = sorted(snapshots.values_list("as_of", flat=True))
    assert days[-1] - days[0] >= timedelta(weeks=4)
    count = Snapshot.objects.count()
    call_command("seed_demo", allow_production=True)
    assert Snapshot.objects.count() == count


def test_every_demo_school_has_a_score_for_each_of_the_seven_pillars():
    from readiness.services import latest_snapshots
    from schools.models import School

    call_command("seed_demo", allow_production=True)
    schools = list(School.objects.filter(district__slug="riverbend"))
    assert schools
    latest = latest_snapshots([s.pk for s in schools])
    missing = {
        school.code: [p for p in Pillar.values if latest[school.pk].pillars.get(p) is None]
        for school in schools
    }
    assert {code: gaps for code, gaps in missing.items() if gaps} == {}


@pytest.fixture
def through_the_broker():
    from config.celery import app

    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = True


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_computes_a_run_queued_on_redis(maple, through_the_broker):
    import time

    from django.conf import settings

    from tests.services import need

    need(bool(settings.REDIS_URL), "Redis (REDIS_URL)")
    from celery.contrib.testing.worker import start_worker

    StudentFactory(school=maple, home_internet="yes")
    with start_worker(
        through_the_broker, pool="solo", perform_ping_check=False, loglevel="WARNING"
    ):
        with transaction.atomic():
            run = services.request_run(
                district_id=maple.district_id, school_id=maple.pk, kind=RunKind.MANUAL
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if not run.pending:
                break
            time.sleep(0.2)
    assert run.status == RunStatus.DONE
    assert Snapshot.objects.filter(school=maple, run=run).count() == 1


def test_the_migration_removes_targets_of_the_retired_survey_count(maple):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("readiness.migrations.0002_retire_surveys_recent_targets")
    # Rows stored before the key was retired (the model refuses the key now).
    IndicatorTarget._base_manager.bulk_create(
        [
            IndicatorTarget(district=maple.district, indicator="surveys_recent", target=5),
            IndicatorTarget(district=maple.district, indicator="needs_poll", target=0.5),
        ]
    )
    migration.forward(apps, None)
    assert list(IndicatorTarget._base_manager.values_list("indicator", flat=True)) == ["needs_poll"]
    assert "surveys_recent" not in REGISTRY
