"""The device-import bench times what production does: the import's after-commit message
(the district's readiness run) is published to the broker, not run inside the timed span.
The bench's settings have no Redis, under which Celery runs tasks eagerly, in-process."""

import pytest
from celery import current_app

from bench.imports import tasks_published
from core.queue import send

RAN: list = []


@current_app.task(name="tests.bench_imports.record")
def record(value):
    RAN.append(value)


@pytest.fixture
def in_process_celery():
    """Celery as the bench's settings make it: no Redis, the in-memory broker, tasks run
    eagerly (the settings of a run without REDIS_URL; with Redis there is nothing to test)."""
    conf = current_app.conf
    if not (conf.broker_url.startswith("memory://") and conf.task_always_eager):
        pytest.skip("Celery has a real broker here: tasks are published already")
    RAN.clear()


def test_inside_the_timed_span_tasks_are_published_not_run(in_process_celery):
    send(record.name, ["before"])
    assert RAN == ["before"]  # eager: run here and now
    with tasks_published() as published:
        send(record.name, ["timed"], countdown=120)
    assert published == [record.name]
    assert RAN == ["before"]  # published, not run
    assert current_app.conf.task_always_eager  # restored
    send(record.name, ["after"])
    assert RAN == ["before", "after"]
