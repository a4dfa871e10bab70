"""Every task the beat schedule starts runs as a worker runs it: with no request's scope.

Test bodies run with scopes disabled (tests/conftest.py), which hid a nightly task that
read ``District.objects`` outside any scope: in production it raised ScopeError every night
and counted nothing. Here each scheduled task's body runs with scopes enforced and no
dimension set, on a district with a school, staff, devices and a PD session, as the worker
would run it at night.
"""

import importlib

import pytest
from celery import current_app
from django.conf import settings
from django_scopes import scope

from tests.factories import DeviceFactory, PDSessionFactory, StaffMemberFactory


@pytest.fixture
def some_district(district, maple, cedar):
    StaffMemberFactory(school=maple)
    DeviceFactory(school=maple)
    PDSessionFactory(schools=[maple])
    return district


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_each_scheduled_task_runs_without_a_request_scope(name, some_district):
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    importlib.import_module(entry["task"].rsplit(".", 1)[0])  # registers its tasks
    task = current_app.tasks[entry["task"]]
    with scope():  # enforced, and no district or school: a worker's state
        task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True).get()
