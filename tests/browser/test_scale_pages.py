"""The pages that list a district's schools page through them (issue 8): keyboard, phone, axe."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import DeviceFactory, SchoolFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def many_schools(district, maple, cedar):
    schools = SchoolFactory.create_batch(58, district=district)
    DeviceFactory(school=maple)
    return [maple, cedar, *schools]


@pytest.mark.parametrize("name", ["schools:school_list", "equity:district_coverage"])
def test_the_next_page_of_schools_is_reached_with_the_keyboard(
    page, axe_check, district_admin, district, many_schools, name
):
    url = reverse(name, args=[district.pk]) if name == "equity:district_coverage" else reverse(name)
    sign_in(page, district_admin.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(url)
    expect(page.get_by_text("Schools 1–50 of 60")).to_be_visible()
    axe_check(page)
    nav = page.get_by_role("navigation", name="Pages")
    nav.get_by_role("link", name="Next").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Schools 51–60 of 60")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_count(1)


def test_the_home_page_shows_ten_schools_by_need_on_a_phone(
    phone, axe_check, district_admin, many_schools
):
    sign_in(phone, district_admin.email, PASSWORD)
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    link = phone.get_by_role("link", name="All 60 schools, by need")
    expect(link).to_be_visible()
    axe_check(phone)
    link.click()
    expect(phone.get_by_text("Schools 1–50 of 60")).to_be_visible()
