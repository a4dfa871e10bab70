"""The survey form's starter and Spanish title behaviour, and the links page's copy, QR code
and printable handout, in Chromium (each page scanned by axe-core)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from stakeholders.models import Survey
from stakeholders.starters import STARTERS
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import InvitationFactory, SurveyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_starter_fills_the_title_and_ticks_its_audiences(page, axe_check, principal, maple):
    families = STARTERS["families_before"]
    sign_in(page, principal.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("stakeholders:survey_new"))
    page.get_by_label("Start from").select_option(label=families.label)
    expect(page.get_by_label("Title", exact=True)).to_have_value(families.title)
    expect(page.get_by_label("Title in Spanish")).to_have_value(families.title_es)
    expect(page.get_by_role("checkbox", name="Families")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Teachers")).not_to_be_checked()
    # Another starter replaces what the first one wrote (nobody changed it).
    teachers = STARTERS["teachers_before"]
    page.get_by_label("Start from").select_option(label=teachers.label)
    expect(page.get_by_label("Title", exact=True)).to_have_value(teachers.title)
    expect(page.get_by_role("checkbox", name="Teachers")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Other staff")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Families")).not_to_be_checked()
    expect(page.locator("#starter-status")).to_contain_text("Teachers, Other staff")
    axe_check(page)
    page.get_by_role("button", name="Create survey").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(teachers.title)
    survey = Survey.objects.get()
    assert set(survey.invitations.values_list("audience", flat=True)) == {"teachers", "staff"}


def test_the_spanish_title_follows_the_english_until_written(page, principal, maple):
    sign_in(page, principal.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("stakeholders:survey_new"))
    english, spanish = page.get_by_label("Title", exact=True), page.get_by_label("Title in Spanish")
    english.fill("Laptops")
    expect(spanish).to_have_value("Laptops")
    english.press("End")
    english.press_sequentially(" at home")
    expect(spanish).to_have_value("Laptops at home")
    spanish.fill("Portátiles en casa")
    english.press("End")
    english.press_sequentially(" next year")
    expect(english).to_have_value("Laptops at home next year")
    expect(spanish).to_have_value("Portátiles en casa")  # written on its own: kept


def test_the_links_page_copies_shows_a_qr_code_and_prints_a_handout(
    page, axe_check, principal, maple
):
    survey = SurveyFactory(schools=[maple], title="Laptops at home")
    link = InvitationFactory(survey=survey, audience="families")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, principal.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(reverse("stakeholders:survey_links", args=[survey.pk]))

    page.get_by_role("button", name="Copy link for Families").click()
    expect(page.locator("#copy-status")).to_contain_text("Link copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(link.path())

    qr = page.get_by_role("img", name="QR code of the link for Families (download)")
    qr.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    axe_check(page)

    page.get_by_role("link", name="Printable handout for Families").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laptops at home")
    code = page.get_by_role("img", name="QR code that opens the survey")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=code.element_handle())
    expect(page.get_by_text(link.path())).to_be_visible()
    expect(page.get_by_role("button", name="Print this handout")).to_be_visible()
    axe_check(page)
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print this handout")).to_be_hidden()
    expect(code).to_be_visible()
