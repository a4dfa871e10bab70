"""A large district's readiness figures are read by several threads at once, each on its own
connection (``readiness.services.read_indicators``): the same readings as one thread, the
shared figures computed once, a reader's failure raised to the run, and every connection
the readers opened closed again.

The readers see only committed rows, so these tests commit theirs (``transaction=True``);
inside a transaction a run reads on its own connection (``parallel_readers``)."""

import threading
import time
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.utils import timezone

from readiness import services
from readiness.indicators import Context
from readiness.models import RunKind, Snapshot
from schools.models import School

from .test_jobs import _district_with

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite: a run reads on one connection"
)


def _backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def _closed_since(before: set[int], timeout: float = 30.0) -> bool:
    """Whether every backend opened since ``before`` is gone, waiting up to ``timeout``: a
    backend leaves pg_stat_activity a moment after its client closed the connection (the
    server process reads the goodbye and exits), so asking at once can still see it; a
    connection left open stays and fails the wait."""
    deadline = time.monotonic() + timeout
    while not _backends() <= before:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _schools(district):
    return list(School.objects.filter(district=district).select_related("district"))


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_readers_read_what_one_reader_reads():
    district = _district_with(3)
    schools = _schools(district)
    today = timezone.localdate()
    alone = services.read_indicators(schools, Context(today=today), readers=1)
    ctx = Context(today=today)
    together = services.read_indicators(schools, ctx, readers=2)
    assert together == alone
    assert list(together) == list(alone)  # the registry's order
    assert ctx.readers  # at least this thread read


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_readers_work_at_once_on_their_own_connections_and_close_them(monkeypatch):
    """Two indicators that each wait for the other to start: with one reader the barrier
    breaks (the test fails); with two, each runs on its own connection."""
    district = _district_with(1)
    before = _backends()
    meeting = threading.Barrier(2, timeout=30)
    pids = {}

    def meets(key):
        def compute(schools, ctx):
            meeting.wait()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids[key] = cursor.fetchone()[0]
            return {s.pk: key for s in schools}

        return SimpleNamespace(compute=compute)

    monkeypatch.setattr(services, "REGISTRY", {"first": meets("first"), "second": meets("second")})
    ctx = Context(today=timezone.localdate())
    readings = services.read_indicators(_schools(district), ctx, readers=2)

    assert set(readings) == {"first", "second"}
    assert len(set(pids.values())) == 2
    assert len(ctx.readers) == 2
    assert _closed_since(before)  # the reader's connection is closed


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_readers_failure_is_raised_to_the_run_and_its_connection_closed(monkeypatch):
    district = _district_with(1)
    before = _backends()
    started = threading.Barrier(2, timeout=30)

    def fails(schools, ctx):
        started.wait()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        raise RuntimeError("the evidence table is gone")

    def waits(schools, ctx):
        started.wait()
        return {s.pk: 1 for s in schools}

    monkeypatch.setattr(
        services,
        "REGISTRY",
        {"waits": SimpleNamespace(compute=waits), "fails": SimpleNamespace(compute=fails)},
    )
    with pytest.raises(RuntimeError, match="evidence table is gone"):
        services.read_indicators(_schools(district), Context(today=timezone.localdate()), readers=2)
    assert _closed_since(before)


def test_a_shared_figure_is_computed_once_whichever_threads_ask():
    ctx = Context(today=timezone.localdate())
    computed = []
    asking = threading.Barrier(4, timeout=30)
    answers = []

    def figure():
        computed.append(1)
        return {"devices": 7}

    def ask():
        asking.wait()
        answers.append(ctx.once("devices", figure))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert computed == [1]
    assert answers == [{"devices": 7}] * 4


def test_a_shared_figure_that_failed_is_tried_again():
    ctx = Context(today=timezone.localdate())
    attempts = []

    def figure():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("lost the connection")
        return 3

    with pytest.raises(RuntimeError):
        ctx.once("staff", figure)
    assert ctx.once("staff", figure) == 3
    assert ctx.memo["staff"] == 3


@pytest.mark.django_db
def test_inside_a_transaction_a_run_reads_on_its_own_connection(settings):
    settings.READINESS_READERS = 4
    with transaction.atomic():
        assert services.parallel_readers() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_large_districts_run_reads_with_the_configured_readers(settings, monkeypatch):
    settings.READINESS_READERS = 3
    assert services.parallel_readers() == 3
    district = _district_with(3)
    monkeypatch.setattr(services, "PARALLEL_FROM_SCHOOLS", 2)
    before = _backends()
    run = services.run_now(district_id=district.pk, kind=RunKind.COMMAND)
    assert run.snapshots_stored == 3
    parallel = {s.school_id: s.fingerprint for s in Snapshot.objects.filter(run=run)}
    monkeypatch.setattr(services, "PARALLEL_FROM_SCHOOLS", 10_000)
    one = services.compute(_schools(district), readers=1)
    assert parallel == {r.school.pk: r.fingerprint for r in one}
    assert _closed_since(before)
