"""The feeder pattern end to end on a live server (PostgreSQL in CI, no wrapping
transaction): the district admin sets Maple → Cedar on Maple's settings page, the dry run
shows the move, and the real run moves Maple's grade 5 into Cedar's grade 6."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from equity.inventory.models import Student
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import StudentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_top_grade_moves_to_the_next_school_at_rollover(
    page, axe_check, district_admin, maple, cedar
):
    for i in range(3):
        StudentFactory(school=maple, grade=5, local_id=f"M5-{i}")
    StudentFactory(school=maple, grade=4, local_id="M4-0")
    StudentFactory(school=cedar, grade=8, local_id="C8-0")
    sign_in(page, district_admin.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.goto(reverse("schools:school_edit", args=[maple.pk]))
    feeds_into = page.get_by_role("combobox", name="Students leaving the top grade go to")
    feeds_into.fill("Cedar")
    page.get_by_role("option", name="Cedar Middle").click()
    expect(feeds_into).to_have_value("Cedar Middle")
    axe_check(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Maple Elementary was updated.")).to_be_visible()

    page.goto(reverse("equity:rollover", args=[maple.district_id]))
    page.get_by_role("button", name="Check the rollover").click()
    expect(
        page.get_by_text("3 from Maple Elementary (grade 5) to Cedar Middle (grade 6)")
    ).to_be_visible()
    expect(page.get_by_text("Maple Elementary: 3–5 150 → 147")).to_be_visible()
    axe_check(page)
    assert Student.objects.filter(school=cedar, active=True).count() == 1  # a dry run

    page.get_by_label("Run it for real").check()
    page.get_by_role("button", name="Check the rollover").click()
    expect(page.get_by_text("(3 to the next school)")).to_be_visible()
    at_cedar = Student.objects.filter(school=cedar, active=True)
    assert sorted(at_cedar.values_list("local_id", "grade")) == [
        ("M5-0", 6),
        ("M5-1", 6),
        ("M5-2", 6),
    ]
    assert Student.objects.get(local_id="M4-0").grade == 5
    assert not Student.objects.get(local_id="C8-0").active
    cedar.refresh_from_db()
    assert cedar.enrollment_6_8 == 500 + 3 - 1
