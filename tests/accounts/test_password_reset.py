"""Issue 15, item 6: a password-reset request takes the same time for any address.

The request only queues a task (core.queue.enqueue); the task looks the address up and
sends the link through a real SMTP server on loopback.
"""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db
URL = reverse("accounts:password_reset")
LINK = re.compile(r"https?://\S+(/accounts/password/set/\S+/)")


def request_reset(email, capture):
    """Post the form; answer the response, the SQL it ran and the callbacks it queued."""
    with CaptureQueriesContext(connection) as queries, capture(execute=False) as callbacks:
        response = Client().post(URL, {"email": email})
    return response, [q["sql"] for q in queries], callbacks


def test_the_request_queues_the_mail_and_the_task_sends_it_over_smtp(
    principal, smtp_server, django_capture_on_commit_callbacks
):
    response, _, callbacks = request_reset(
        principal.email.upper(), django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    # Nothing was said to the mail server in the request...
    assert smtp_server.connections == 0 and smtp_server.messages == []
    # ...one task was queued for after the commit, and it sends the link.
    assert len(callbacks) == 1
    callbacks[0]()
    assert smtp_server.connections == 1
    [message] = smtp_server.messages
    assert message["To"] == principal.email
    assert message["Subject"] == "Reset your Pillarwise password"
    path = LINK.search(smtp_server.body(0)).group(1)

    # The link works: a new password, then sign-in with it.
    client = Client()
    form = client.get(path, follow=True)
    assert form.context["validlink"]
    new = "a quiet morning by the lake"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    principal.refresh_from_db()
    assert principal.check_password(new)


def test_an_unknown_address_runs_the_same_request_and_its_task_sends_nothing(
    principal, smtp_server, django_capture_on_commit_callbacks
):
    known, known_sql, known_tasks = request_reset(
        principal.email, django_capture_on_commit_callbacks
    )
    unknown, unknown_sql, unknown_tasks = request_reset(
        "nobody@maple.example.org", django_capture_on_commit_callbacks
    )
    assert known.status_code == unknown.status_code == 302 and known.url == unknown.url
    # The same statements (none reads the accounts), the same one queued task: the request's
    # time cannot tell a known address from an unknown one.
    assert known_sql == unknown_sql
    assert not any(User._meta.db_table in sql for sql in known_sql)
    assert len(known_tasks) == len(unknown_tasks) == 1
    assert smtp_server.connections == 0
    unknown_tasks[0]()
    assert smtp_server.messages == [] and smtp_server.connections == 0


@pytest.mark.parametrize("kind", ["switched off", "no password yet"])
def test_an_account_that_may_not_reset_gets_nothing(
    principal, smtp_server, django_capture_on_commit_callbacks, kind
):
    if kind == "switched off":
        principal.is_active = False
    else:
        principal.set_unusable_password()
    principal.save()
    _, _, tasks = request_reset(principal.email, django_capture_on_commit_callbacks)
    tasks[0]()
    assert smtp_server.messages == []


def test_someone_whose_district_turned_passwords_off_is_sent_to_the_district_sign_in(
    principal, district, smtp_server, django_capture_on_commit_callbacks
):
    """A set-password link would not let them in: the mail names the district sign-in."""
    from identity.models import SignInSettings

    SignInSettings.objects.create(
        district=district, allowed_domains="maple.example.org", passwords_allowed=False
    )
    _, _, tasks = request_reset(principal.email, django_capture_on_commit_callbacks)
    tasks[0]()
    [message] = smtp_server.messages
    body = smtp_server.body(0)
    assert message["To"] == principal.email
    assert not LINK.search(body)
    assert reverse("identity:start") in body
    assert "signs in to Pillarwise with its own accounts" in body
