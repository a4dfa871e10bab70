"""The PD check-in and feedback links, used without an account.

Nothing a visitor types reveals a roster name or writes against one: check-in is proven
by a one-time code e-mailed to the address (sent through the task queue to a real SMTP
server on loopback here), named feedback by a personal link e-mailed to each attendee.
"""

import re
from datetime import time

import pytest
from django.urls import reverse
from django.utils import timezone

from pd.models import CODE_ATTEMPTS, Attendance, CheckinCode, Feedback
from tests.factories import AttendanceFactory, PDSessionFactory, StaffMemberFactory
from tests.smtp import code_in

ANA = "ana@maple.example.org"


@pytest.fixture
def open_session(maple):
    now = timezone.localtime()
    return PDSessionFactory(schools=[maple], date=now.date(), start_time=time(now.hour, 0))


@pytest.fixture
def ana(maple):
    return StaffMemberFactory(school=maple, email=ANA, full_name="Ana Alvarez")


def _ask_for_code(client, session, email, capture):
    with capture(execute=True):
        response = client.post(
            reverse("pd:checkin", args=[session.checkin_token]), {"email": email}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("pd:checkin_code", args=[session.checkin_token])
    return client.get(response["Location"])


def test_it_checks_in_with_the_code_e_mailed_to_the_address(
    client, open_session, ana, smtp_server, django_capture_on_commit_callbacks
):
    url = reverse("pd:checkin", args=[open_session.checkin_token])
    page = client.get(url)
    assert page.status_code == 200 and open_session.title.encode() in page.content
    code_page = _ask_for_code(
        client, open_session, "  Ana@Maple.example.org", django_capture_on_commit_callbacks
    )
    assert b"Ana Alvarez" not in code_page.content  # no name before the proof
    assert b'autocomplete="one-time-code"' in code_page.content
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == ANA and open_session.title in message["Subject"]
    assert not Attendance.objects.exists()

    code = code_in(smtp_server.body())
    done = client.post(
        reverse("pd:checkin_code", args=[open_session.checkin_token]),
        {"code": f"{code[:3]} {code[3:]}"},  # typed with a space, as the e-mail groups it
    )
    assert b"You are checked in, Ana Alvarez" in done.content
    attendance = Attendance.objects.get(session=open_session)
    assert attendance.staff == ana and attendance.checked_in_at is not None
    # The done page links the person's own feedback page.
    (path,) = re.findall(rb'href="(/pd/my-feedback/[^"]+)"', done.content)
    assert client.get(path.decode()).status_code == 200

    again = _ask_for_code(client, open_session, ANA, django_capture_on_commit_callbacks)
    smtp_server.wait_for(2)
    done = client.post(
        reverse("pd:checkin_code", args=[open_session.checkin_token]),
        {"code": code_in(smtp_server.body())},
    )
    assert b"already checked in, Ana Alvarez" in done.content
    assert again.status_code == 200


@pytest.mark.parametrize("who", ["unknown", "other school", "left", "roster"])
def test_the_code_page_reads_the_same_for_any_address(
    who, client, open_session, ana, cedar, maple, settings, django_capture_on_commit_callbacks
):
    """Whether the address is on the roster is not told, and no name is shown."""
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    StaffMemberFactory(school=cedar, email="ben@cedar.example.org", full_name="Ben Birch")
    StaffMemberFactory(
        school=maple, email="gone@maple.example.org", full_name="Gil Gone", active=False
    )
    email = {
        "unknown": "nobody@maple.example.org",
        "other school": "ben@cedar.example.org",
        "left": "gone@maple.example.org",
        "roster": ANA,
    }[who]
    page = _ask_for_code(client, open_session, email, django_capture_on_commit_callbacks)
    text = page.content.decode().replace(email, "ADDRESS")
    template = (
        _ask_for_code(
            client, open_session, "nobody@maple.example.org", django_capture_on_commit_callbacks
        )
        .content.decode()
        .replace("nobody@maple.example.org", "ADDRESS")
    )
    assert _without_csrf(text) == _without_csrf(template)
    for name in ("Ana Alvarez", "Ben Birch", "Gil Gone"):
        assert name not in text
    assert len(mail.outbox) == (1 if who == "roster" else 0)
    wrong = client.post(
        reverse("pd:checkin_code", args=[open_session.checkin_token]), {"code": "000000"}
    )
    assert b"not right" in wrong.content and not Attendance.objects.exists()


def _without_csrf(html: str) -> str:
    """The page without its per-request tokens (CSRF, CSP nonces)."""
    return re.sub(r"[A-Za-z0-9+/_=-]{20,}", "TOKEN", html)


def test_wrong_codes_are_limited_per_code_and_per_browser(
    client, open_session, ana, settings, django_capture_on_commit_callbacks
):
    from django.core import mail
    from django.test import Client

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _ask_for_code(client, open_session, ANA, django_capture_on_commit_callbacks)
    right = code_in(mail.outbox[0].body)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    url = reverse("pd:checkin_code", args=[open_session.checkin_token])
    for _ in range(CODE_ATTEMPTS - 1):
        assert b"not right" in client.post(url, {"code": wrong}).content
    last = client.post(url, {"code": wrong})
    # This browser's tries are over: back to the start, with a message.
    assert last.status_code == 302
    assert last["Location"] == reverse("pd:checkin", args=[open_session.checkin_token])
    assert client.get(url)["Location"] == last["Location"]
    # Another browser (or cleared cookies) cannot use the code either: it died with the tries.
    other = Client()
    _ask_for_code(other, open_session, ANA, django_capture_on_commit_callbacks)
    CheckinCode.objects.filter(pk=CheckinCode.objects.order_by("pk").last().pk).delete()
    assert b"not right" in other.post(url, {"code": right}).content
    assert not Attendance.objects.exists()


def test_the_code_page_needs_an_address_first_and_a_closed_session_says_so(client, maple, ana):
    session = PDSessionFactory(
        schools=[maple], date=timezone.localdate() - timezone.timedelta(days=3), start_time=time(9)
    )
    response = client.post(reverse("pd:checkin", args=[session.checkin_token]), {"email": ANA})
    assert b"is closed" in response.content and not CheckinCode.objects.exists()
    session.checkin_mode = "open"
    session.save()
    code_url = reverse("pd:checkin_code", args=[session.checkin_token])
    assert client.get(code_url)["Location"] == reverse("pd:checkin", args=[session.checkin_token])
    bad = client.get(reverse("pd:checkin", args=["made-up-token"]))
    assert bad.status_code == 200 and b"This link does not work" in bad.content
    as_checkin = client.get(reverse("pd:checkin", args=[session.feedback_token]))
    assert b"This link does not work" in as_checkin.content


# --- feedback ---------------------------------------------------------------------------


def test_the_shared_feedback_link_is_anonymous_whatever_is_posted(client, open_session, ana):
    url = reverse("pd:feedback", args=[open_session.feedback_token])
    page = client.get(url)
    assert (
        b"<legend" in page.content
        and b'name="email"' not in page.content.split(b"named-heading")[0]
    )
    # Posting a colleague's address (the old form's field) names nobody.
    response = client.post(
        url, {"rating": "5", "will_apply": "Exit tickets", "anonymous": "", "email": ANA}
    )
    assert b"Thank you" in response.content
    assert Feedback.objects.get().staff_id is None


def test_a_named_answer_comes_only_through_the_attendees_own_link(
    client, open_session, ana, maple, smtp_server, django_capture_on_commit_callbacks
):
    AttendanceFactory(session=open_session, staff=ana)
    absent = StaffMemberFactory(school=maple, email="abe@maple.example.org")
    AttendanceFactory(session=open_session, staff=absent, status="absent", hours=0)
    ask = reverse("pd:feedback_link", args=[open_session.feedback_token])
    for email in ("abe@maple.example.org", "nobody@maple.example.org", ANA, ANA):
        with django_capture_on_commit_callbacks(execute=True):
            sent = client.post(ask, {"link-email": email})
        assert b"Check your e-mail" in sent.content and b"Ana Alvarez" not in sent.content
    (message,) = smtp_server.wait_for(1)  # one link: to Ana, once (not again within minutes)
    assert message["To"] == ANA
    (path,) = re.findall(r"(/pd/my-feedback/[^/\s]+/)", smtp_server.body())

    page = client.get(path)
    assert b"Ana Alvarez" in page.content
    client.post(path, {"rating": "2", "will_apply": "First try"})
    client.post(path, {"rating": "4", "will_apply": "Exit tickets"})
    feedback = Feedback.objects.get()
    assert (feedback.staff, feedback.rating) == (ana, 4)  # replaced, not added
    assert b"Exit tickets" in client.get(path).content  # the earlier answer is shown
    client.post(path, {"rating": "3", "will_apply": "", "anonymous": "on"})
    assert Feedback.objects.filter(staff=None, rating=3).count() == 1

    tampered = path.replace("/pd/my-feedback/", "/pd/my-feedback/x")
    assert b"This link does not work" in client.get(tampered).content
