"""The weekly digest and the reminders, sent to a real SMTP server on loopback: each arrives
once, in plain text and HTML, with a one-click unsubscribe link that works."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from schools.models import District
from schools.web import absolute_url
from tests.factories import InitiativeFactory, MilestoneFactory
from tests.smtp import smtp_server  # noqa: F401 - the fixture
from today import notices
from today.models import Kind, OptOut, Sent


@pytest.fixture
def overdue(maple):
    """Something on the principal's home: a milestone overdue by a week."""
    initiative = InitiativeFactory(schools=[maple], district=maple.district, title="Reading aloud")
    return MilestoneFactory(
        initiative=initiative,
        title="Order headsets",
        due_on=timezone.localdate() - timedelta(days=7),
    )


def _send(*args) -> str:
    out = StringIO()
    call_command("send_digests", *args, stdout=out)
    return out.getvalue()


def test_the_digest_arrives_once_in_text_and_html(smtp_server, principal, overdue):  # noqa: F811
    assert "1 digests sent" in _send()
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == principal.email
    assert "Pillarwise this week" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Order headsets (Reading aloud)" in text and "overdue since" in text
    assert "Order headsets" in html and "<a href=" in html
    link = reverse("initiatives:milestone_edit", args=[overdue.pk])
    assert absolute_url(link) in text

    # A second run in the same week sends nothing, and says so.
    assert "0 digests sent" in _send()
    assert len(smtp_server.messages) == 1
    assert Sent.objects.filter(user=principal, kind=Kind.DIGEST).count() == 1


def test_a_dry_run_sends_and_records_nothing(smtp_server, principal, overdue):  # noqa: F811
    out = _send("--dry-run")
    assert f"Would send digest to {principal.email}" in out
    assert smtp_server.connections == 0 and not Sent.objects.exists()


def test_the_district_option_sends_only_to_its_people(
    smtp_server,  # noqa: F811
    principal,
    overdue,
    outsider,
    elsewhere,
):
    MilestoneFactory(
        initiative=InitiativeFactory(schools=[elsewhere], district=elsewhere.district),
        due_on=timezone.localdate() - timedelta(days=2),
    )
    _send("--district", elsewhere.district.slug)
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == outsider.email
    with pytest.raises(Exception, match="No district has the slug"):
        _send("--district", "no-such-district")


def test_one_click_unsubscribe_works_without_signing_in(smtp_server, principal, overdue):  # noqa: F811
    _send()
    (message,) = smtp_server.wait_for(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = re.sub(r"\s+", "", str(message["List-Unsubscribe"]))  # unfolded
    url = re.fullmatch(r"<(https?://.+)>", header).group(1)
    path = urlsplit(url).path
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert url in text  # the same link, for people, in the body

    browser = Client(enforce_csrf_checks=True)  # a mail client: no session, no CSRF token
    page = browser.get(path)
    assert page.status_code == 200 and b"Stop this e-mail?" in page.content
    assert not OptOut.objects.exists()  # a link scanner's GET changes nothing
    answer = browser.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200 and b"You are unsubscribed" in answer.content
    assert OptOut.objects.filter(user=principal, kind=Kind.DIGEST).exists()

    # Next week, no digest for them.
    Sent.objects.all().delete()
    _send()
    assert len(smtp_server.messages) == 1


def test_a_changed_token_unsubscribes_no_one(client, principal):
    token = notices.unsubscribe_token(principal.pk, Kind.DIGEST)
    forged = (
        notices.unsubscribe_token(principal.pk + 1, Kind.DIGEST).split(":")[0]
        + ":"
        + (token.split(":", 1)[1])
    )
    response = client.post(reverse("today:unsubscribe", args=[forged]))
    assert b"This link does not work" in response.content
    assert not OptOut.objects.exists()


def test_a_refused_message_is_sent_by_the_next_run(
    smtp_server,  # noqa: F811
    settings,
    principal,
    overdue,
):
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens there: the connection is refused
    with pytest.raises(Exception, match="refused"):
        _send()
    assert not Sent.objects.exists()  # the claim was withdrawn
    settings.EMAIL_PORT = port
    _send()
    smtp_server.wait_for(1)
    assert Sent.objects.get(user=principal).sent_at is not None


def test_each_reminder_arrives_once(smtp_server, principal, overdue, maple):  # noqa: F811
    _send("--reminders")
    (message,) = smtp_server.wait_for(1)
    assert message["Subject"] == "A milestone is overdue"
    assert "Order headsets" in message.get_body(preferencelist=("plain",)).get_content()
    _send("--reminders")
    assert len(smtp_server.messages) == 1

    # A new overdue milestone is reminded alone.
    MilestoneFactory(
        initiative=overdue.initiative,
        title="Train the librarians",
        due_on=timezone.localdate() - timedelta(days=1),
    )
    _send("--reminders")
    second = smtp_server.wait_for(2)[1].get_body(preferencelist=("plain",)).get_content()
    assert "Train the librarians" in second and "Order headsets" not in second


def test_a_reminder_reaches_past_the_homes_five_items(smtp_server, principal, overdue):  # noqa: F811
    """The home shows five; the reminder names every overdue milestone, each once."""
    from today.selectors import LIMIT

    for n in range(LIMIT + 3):
        MilestoneFactory(
            initiative=overdue.initiative,
            title=f"Late step {n}",
            due_on=timezone.localdate() - timedelta(days=20 + n),
        )
    _send("--reminders")
    (message,) = smtp_server.wait_for(1)
    body = message.get_body(preferencelist=("plain",)).get_content()
    named = [n for n in range(LIMIT + 3) if f"Late step {n}\n" in body or f"Late step {n} " in body]
    assert len(named) == LIMIT + 3 and "Order headsets" in body
    _send("--reminders")
    assert len(smtp_server.messages) == 1
    assert Sent.objects.filter(kind=Kind.MILESTONE_OVERDUE).count() == LIMIT + 4


def test_the_settings_page_chooses_what_arrives(smtp_server, login, principal, overdue):  # noqa: F811
    client = login(principal)
    page = client.get(reverse("today:settings"))
    assert page.status_code == 200
    kept = [k for k in Kind.values if k not in (Kind.DIGEST, Kind.MILESTONE_OVERDUE)]
    response = client.post(reverse("today:settings"), {"receive": kept})
    assert response.status_code == 302
    assert set(OptOut.objects.values_list("kind", flat=True)) == {
        Kind.DIGEST,
        Kind.MILESTONE_OVERDUE,
    }
    _send()
    _send("--reminders")
    assert smtp_server.connections <= 2 and smtp_server.messages == []
    client.post(reverse("today:settings"), {"receive": Kind.values})
    assert not OptOut.objects.exists()


def test_the_district_time_zone_decides_the_week(principal, maple, overdue):
    # Sunday 6 December 2026, 20:00 UTC: already Monday of the next ISO week in Kiritimati
    # (UTC+14), still Sunday in Pago Pago (UTC-11).
    moment = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    district = District.objects.get(pk=maple.district_id)
    district.time_zone = "Pacific/Kiritimati"
    district.save()
    assert notices.compose_for(principal, moment).period == "2026-W50"
    district.time_zone = "Pacific/Pago_Pago"
    district.save()
    assert notices.compose_for(principal, moment).period == "2026-W49"


def test_the_beat_task_sends_through_the_outbox_once(smtp_server, principal, overdue):  # noqa: F811
    from today.tasks import weekly_digests

    weekly_digests.apply()
    smtp_server.wait_for(1)
    weekly_digests.apply()  # a second beat (or a redelivery) in the same week
    assert len(smtp_server.messages) == 1


def test_no_request_sends_mail(smtp_server, login, principal, overdue):  # noqa: F811
    client = login(principal)
    for name in ("today:home", "today:settings"):
        assert client.get(reverse(name)).status_code == 200
    assert smtp_server.connections == 0
