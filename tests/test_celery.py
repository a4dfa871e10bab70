"""Celery: JSON only, tasks after commit, and a real worker on the real broker."""

import time

import pytest
from django.conf import settings
from django.core import mail

from accounts.services import invite_user
from config.celery import app
from schools.models import Role
from tests.services import need


def test_it_accepts_json_only():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_an_invitation_is_not_sent_before_the_transaction_commits(
    district, maple, district_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite_user(
            district=district,
            email="a@b.example.org",
            full_name="A B",
            role=Role.COACH,
            school=maple,
            invited_by=district_admin,
        )
    assert len(callbacks) == 1 and not mail.outbox
    callbacks[0]()
    assert len(mail.outbox) == 1


@pytest.fixture
def through_the_broker():
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_invitation_from_redis(
    district, maple, district_admin, through_the_broker
):
    need(bool(settings.REDIS_URL), "Redis (REDIS_URL)")
    assert app.conf.broker_url.startswith("redis://")
    from celery.contrib.testing.worker import start_worker

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        invite_user(
            district=district,
            email="worker@b.example.org",
            full_name="W",
            role=Role.COACH,
            school=maple,
            invited_by=district_admin,
        )
        deadline = time.monotonic() + 30
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [m.to for m in mail.outbox] == [["worker@b.example.org"]]
