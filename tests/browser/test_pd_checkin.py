"""PD self check-in end to end, on a live server without a wrapping transaction.

The coach opens check-in on the session page; an attendee on a phone types their school
address, reads the code in the e-mail (sent by the task queue after commit, through a
real SMTP server on loopback) and types it; the coach's page then shows them checked in.
The code's try count is taken under a row lock and committed although a wrong code is
refused, which only a run on PostgreSQL without a test transaction shows for real.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from pd.models import Attendance, CheckinCode
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import PDSessionFactory, StaffMemberFactory
from tests.smtp import code_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_attendee_checks_in_on_a_phone_with_the_e_mailed_code(
    page, phone, maple, coach, smtp_server, axe_check
):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org", full_name="Ana Alvarez")
    # Yesterday's session: its automatic window is closed until the coach opens it.
    session = PDSessionFactory(
        schools=[maple],
        title="Exit tickets that teach",
        date=timezone.localdate() - timedelta(days=2),
        facilitator_user=coach,
    )

    sign_in(page, coach.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("pd:session_detail", args=[session.pk]))
    page.get_by_role("button", name="Open check-in").click()
    expect(page.get_by_text("Self check-in: opened by the coach.")).to_be_visible()

    phone.goto(session.checkin_path())
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Check in")
    axe_check(phone)
    phone.get_by_label("Your school e-mail address").fill("Ana@maple.example.org")
    phone.get_by_role("button", name="Send me a code").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Type the code from your e-mail")
    expect(phone.get_by_text("Ana Alvarez")).to_have_count(0)
    axe_check(phone)

    (message,) = smtp_server.wait_for(1)
    assert message["To"] == ana.email
    code = code_in(smtp_server.body())
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    code_field = phone.get_by_label("The 6-digit code from the e-mail")
    code_field.fill(wrong)
    phone.get_by_role("button", name="Check in").click()
    expect(phone.get_by_text("That code is not right")).to_be_visible()
    axe_check(phone)
    assert CheckinCode.objects.get().attempts == 1  # committed, though the try was refused
    assert not Attendance.objects.exists()

    phone.get_by_label("The 6-digit code from the e-mail").fill(code)
    phone.get_by_role("button", name="Check in").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("You are checked in, Ana Alvarez")
    axe_check(phone)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    attendance = Attendance.objects.get(session=session)
    assert attendance.staff == ana and attendance.checked_in_at is not None
    assert CheckinCode.objects.get().used_at is not None

    # The attendee's own feedback page, linked from the done page.
    phone.get_by_role("link", name="your feedback page").click()
    expect(phone.get_by_text("This is your own feedback link, Ana Alvarez.")).to_be_visible()
    axe_check(phone)

    page.reload()
    expect(page.get_by_text("1 checked in with the link")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Ana Alvarez")).to_be_visible()
    axe_check(page)
