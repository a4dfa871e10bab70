"""The district admin's PD report on a phone, against a live server: the first view reads
the figures directly and queues the district's first count (tasks run in-process here, so
it is done by the next view), which then says when its figures were counted; a check-in
recorded meanwhile marks them as being counted again. Keyboard and axe as every page."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "pillarwise-demo"


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


def test_the_district_report_says_when_its_figures_were_counted(phone, demo, axe_check):
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from pd.models import DistrictPDReport
    from schools.models import District

    sign_in(phone, "admin@riverbend.example.org", DEMO_PASSWORD)
    phone.goto("/pd/reports/")
    expect(phone.locator("#figures-as-of")).to_contain_text("being prepared")
    phone.reload()
    expect(phone.locator("#figures-as-of")).to_contain_text("Figures as of")
    axe_check(phone)
    with scopes_disabled():
        district = District.objects.get()
        report = DistrictPDReport.objects.get(district=district)
    assert report.refreshed_at is not None and report.figures["summary"]["staff"] > 0
    # A PD change after the count: the page says it waits.
    DistrictPDReport.unscoped.filter(pk=report.pk).update(stale_since=timezone.now())
    phone.reload()
    expect(phone.locator("#figures-as-of")).to_contain_text("being counted")
    # The staff table pages by keyboard from the summary.
    phone.get_by_role("link", name="Below target").focus()
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("link", name="Below target")).to_have_attribute("aria-current", "page")
    expect(phone.locator("#figures-as-of")).to_be_visible()
