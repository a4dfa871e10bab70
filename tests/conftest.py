"""Fixed, named people and places, used across the suite.

Riverbend district has two schools: Maple (where the principal and the coach work) and
Cedar (where the tech staff member works). The outsider works in another district.
Test bodies run with scopes disabled (as pretix does) so they can arrange data freely;
every request through the test client runs inside the requesting user's scope.
"""

import pytest
from django_scopes import scopes_disabled

from schools.models import Role

from .factories import DistrictFactory, MembershipFactory, SchoolFactory, UserFactory

PASSWORD = "correct horse battery"

# Fixtures kept in their own modules: ``smtp_server`` (a real SMTP server on loopback).
pytest_plugins = ["tests.smtp"]


@pytest.fixture(autouse=True)
def _scopes_disabled_in_test_bodies():
    with scopes_disabled():
        yield


def _worker_scope(sender=None, task_id=None, task=None, **kwargs):
    """A task runs as a worker runs it, whatever called it: scopes enforced, no district or
    school. In the suite tasks run in-process (eager), inside a test body (scopes disabled)
    or a request (the user's scope), where a task reading a scoped manager would pass and
    then fail every night on the worker."""
    from django_scopes import scope

    stack = _TASK_SCOPES.setdefault(task_id, [])
    context = scope()
    context.__enter__()
    stack.append(context)


def _worker_scope_end(sender=None, task_id=None, **kwargs):
    stack = _TASK_SCOPES.get(task_id)
    if stack:
        stack.pop().__exit__(None, None, None)
        if not stack:
            del _TASK_SCOPES[task_id]


_TASK_SCOPES: dict = {}


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_without_a_scope():
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_worker_scope, weak=False)
    task_postrun.connect(_worker_scope_end, weak=False)
    yield
    task_prerun.disconnect(_worker_scope)
    task_postrun.disconnect(_worker_scope_end)


@pytest.fixture(autouse=True)
def _empty_cache():
    # Cached aggregates (equity.inventory.coverage.coverage_summary) must not outlive a test's rows:
    # SQLite hands the same ids out again after each test's rollback.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def district(db):
    return DistrictFactory(name="Riverbend", slug="riverbend")


@pytest.fixture
def maple(district):
    return SchoolFactory(district=district, name="Maple Elementary", code="MAPLE")


@pytest.fixture
def cedar(district):
    return SchoolFactory(
        district=district,
        name="Cedar Middle",
        code="CEDAR",
        lowest_grade=6,
        highest_grade=8,
        enrollment_pk_2=0,
        enrollment_3_5=0,
        enrollment_6_8=500,
    )


@pytest.fixture
def elsewhere(db):
    """A school in another district."""
    return SchoolFactory(name="Hidden Hollow School", code="HOLLOW")


def _member(school, role, email, name, district=None):
    user = UserFactory(email=email, full_name=name)
    MembershipFactory(user=user, school=school, district=district or school.district, role=role)
    return user


@pytest.fixture
def principal(maple):
    return _member(maple, Role.PRINCIPAL, "principal@maple.example.org", "Paula Principal")


@pytest.fixture
def coach(maple):
    return _member(maple, Role.COACH, "coach@maple.example.org", "Cory Coach")


@pytest.fixture
def tech(cedar):
    return _member(cedar, Role.TECH_STAFF, "tech@cedar.example.org", "Tess Tech")


@pytest.fixture
def district_admin(district):
    user = UserFactory(email="admin@riverbend.example.org", full_name="Dana Admin")
    MembershipFactory(user=user, school=None, district=district, role=Role.DISTRICT_ADMIN)
    return user


@pytest.fixture
def outsider(elsewhere):
    return _member(elsewhere, Role.PRINCIPAL, "outsider@hollow.example.org", "Otto Outsider")


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def row_locks(transactional_db, monkeypatch):
    """Run without the wrapping transaction and record every row lock taken (tests/locks.py);
    any lock taken outside a transaction fails the test."""
    from django.db import connection

    from .locks import RowLocks, install

    assert not connection.in_atomic_block, "row_locks needs a test without a transaction"
    locks = RowLocks()
    install(locks, monkeypatch)
    yield locks
    locks.assert_all_in_transactions()
