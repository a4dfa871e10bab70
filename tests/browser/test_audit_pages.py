import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from schools.models import District
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "pillarwise-demo"
ADMIN = "admin@riverbend.example.org"


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)
    from django_scopes import scopes_disabled

    with scopes_disabled():
        return District.objects.get(slug="riverbend")


def test_the_district_admin_reads_the_audit_log_and_filters_it(page, demo, axe_check):
    sign_in(page, ADMIN, DEMO_PASSWORD)
    page.get_by_role("link", name="Audit log").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("audit log")
    expect(page.get_by_role("cell", name="Signed in").first).to_be_visible()
    page.get_by_label("Kind").select_option("export")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No events match.")).to_be_visible()
    axe_check(page)


def test_the_privacy_page_sets_a_retention_rule_on_a_phone(phone, demo, axe_check):
    sign_in(phone, ADMIN, DEMO_PASSWORD)
    phone.goto(f"/districts/{demo.pk}/privacy/")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("student privacy")
    phone.get_by_label("Years to keep a student's records after they leave").fill("3")
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_text("The retention rule was saved.")).to_be_visible()
    axe_check(phone)
