"""A teacher's app request, end to end on a live server without a wrapping transaction.

The teacher asks on a phone from the address on her school's roster and follows the link
that arrives at a real SMTP server on loopback; the district admin records the agreement,
passes every review step and approves the app; the teacher's page then says approved, the
initiative that cites the app has its privacy item settled, and the public page lists the
app in English and in Spanish."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from initiatives.models import ComplianceItem, ComplianceKind
from software.models import App, AppRequest, Decision, RequestStatus
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import InitiativeFactory, StaffMemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_teachers_request_goes_from_submitted_to_approved(
    page, phone, district, maple, district_admin, smtp_server, axe_check
):
    StaffMemberFactory(school=maple, email="ana@maple.example.org", full_name="Ana Alvarez")
    phone.goto(reverse("software:public_request", args=[district.slug]))
    axe_check(phone)
    phone.get_by_label("Your school e-mail address").fill("ana@maple.example.org")
    phone.get_by_label("App name").fill("Book Creator")
    phone.get_by_label("The learning it serves").fill("Grade 2 writers publish their own books.")
    phone.get_by_role("button", name="Send the request").click()
    expect(phone.get_by_role("status")).to_contain_text("a link is on its way")

    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "ana@maple.example.org"
    link = re.search(r"http://\S+", smtp_server.body()).group(0)
    status_path = link.split("127.0.0.1:8000", 1)[1]
    phone.goto(status_path)
    expect(phone.get_by_role("status")).to_contain_text("confirmed")
    axe_check(phone)
    made = AppRequest.objects.get()
    assert made.status == RequestStatus.SUBMITTED

    # An initiative of Maple cites the app for its privacy item.
    initiative = InitiativeFactory(district=district, schools=[maple])
    item = ComplianceItem.objects.create(
        initiative=initiative, kind=ComplianceKind.DATA_PRIVACY, app=made.app
    )

    sign_in(page, district_admin.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("software:request_list"))
    page.get_by_role("link", name="Book Creator").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Book Creator")
    axe_check(page)
    for step in ("Privacy", "Accessibility", "Instruction", "Budget"):
        page.get_by_label("What to record").select_option(label="Step passed")
        page.get_by_label("Step").select_option(label=step)
        page.get_by_role("button", name="Record").click()
        expect(page.get_by_text("Recorded.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Passed "))).to_have_count(4)

    page.get_by_role("link", name="Book Creator").first.click()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Data-privacy agreement").select_option(label="Signed")
    signed = timezone.localdate() - timedelta(days=5)
    page.get_by_label("Agreement signed on").fill(signed.isoformat())
    page.get_by_label("Link to the agreement").fill("https://example.org/book-creator-dpa.pdf")
    page.get_by_role("button", name="Save app").click()
    expect(page.get_by_text("Book Creator was saved.")).to_be_visible()
    page.get_by_role("link", name="Decide").click()
    axe_check(page)
    page.get_by_label("Approved", exact=True).check()
    page.get_by_label("Why").fill("Signed the national DPA; serves the writing goals.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("1 request closed")).to_be_visible()
    assert App.objects.get().decision == Decision.APPROVED

    # The decision is e-mailed with a new personal link, which replaces the first one.
    smtp_server.wait_for(2)
    link = re.search(r"http://\S+", smtp_server.body()).group(0)
    phone.goto(status_path)
    expect(phone.get_by_role("heading", name="This link is not recognised")).to_be_visible()
    status_path = link.split("127.0.0.1:8000", 1)[1]
    phone.goto(status_path)
    expect(phone.get_by_text("Status: Approved.")).to_be_visible()
    axe_check(phone)

    page.goto(initiative.get_absolute_url())
    expect(page.locator("[data-compliance]")).to_contain_text("Settled by the register")
    assert item not in initiative.open_compliance_items()

    phone.goto(reverse("software:public_register", args=[district.slug]))
    expect(phone.get_by_role("heading", name="Book Creator")).to_be_visible()
    axe_check(phone)
    phone.get_by_role("link", name="Español").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Aplicaciones que")
    expect(phone.get_by_role("link", name="Leer el acuerdo Book Creator")).to_be_visible()
    axe_check(phone)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
