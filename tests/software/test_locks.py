"""The register's services lock rows (the app a request is about, an open request, the
apps a reminder is about, a request whose link is sent): run without pytest-django's
wrapping transaction, where PostgreSQL refuses a lock outside ``transaction.atomic`` and
``row_locks`` refuses one on any database. Listed in tests/test_row_locks.py."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from software import services
from software.models import App, AppRequest, Decision, DpaStatus, Outcome, RequestStatus
from tests.factories import StaffMemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_request_and_its_review_lock_the_app_and_the_request(
    row_locks, district, maple, coach, district_admin
):
    StaffMemberFactory(school=maple, email="ana@maple.example.org")
    mine = services.request_app(district=district, user=coach, name="Flip", why="Video")
    row_locks.assert_taken("software.services:request_app")
    teacher = services.request_app(
        district=district, email="ana@maple.example.org", name="Flip", why="Replies"
    )
    row_locks.assert_taken("software.services:send_request_link_email")
    assert AppRequest.objects.get(pk=teacher.pk).link_digest  # the task ran, in-process

    step = services.ensure_steps(district)[0]
    services.request_review(
        request=mine, user=district_admin, outcome=Outcome.RETURNED, step=step, text="Grades?"
    )
    row_locks.assert_taken("software.services:request_review")
    row_locks.assert_taken("software.services:send_request_update_email")

    services.request_confirm(request=teacher)
    services.request_withdraw(request=teacher, user=district_admin)
    row_locks.assert_taken("software.services:request_withdraw")
    assert AppRequest.objects.get(pk=teacher.pk).status == RequestStatus.WITHDRAWN

    services.app_decide(app=mine.app, user=district_admin, decision="approved", reason="DPA")
    row_locks.assert_taken("software.services:app_decide")
    assert AppRequest.objects.get(pk=mine.pk).status == RequestStatus.APPROVED
    assert any("approved" in m.subject for m in mail.outbox)


def test_the_expiry_reminder_locks_the_apps_it_marks(row_locks, district, district_admin):
    today = timezone.localdate()
    App.objects.create(
        district=district,
        name="Soon",
        decision=Decision.APPROVED,
        dpa_status=DpaStatus.SIGNED,
        dpa_signed_on=today - timedelta(days=300),
        dpa_expires_on=today + timedelta(days=20),
    )
    assert services.send_dpa_reminder(district_id=district.pk, today=today) == 1
    row_locks.assert_taken("software.services:send_dpa_reminder")
    assert services.send_dpa_reminder(district_id=district.pk, today=today) == 0
