"""Seeded with the demo, every role's home shows items (what the browser test reads)."""

import pytest
from django.core.management import call_command

from accounts.models import User
from schools.permissions import home_sections
from schools.scoping import access_for, activate
from today.selectors import home

PEOPLE = {
    "principal@riverbend.example.org": "principal",
    "coach@riverbend.example.org": "coach",
    "tech@riverbend.example.org": "tech_staff",
    "admin@riverbend.example.org": "district_admin",
}


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


# Sections the demo leaves empty on purpose, and why.
CALM = {"devices_short": "Maple Grove owns its device target in the demo"}


@pytest.mark.parametrize("email", PEOPLE)
def test_each_demo_home_shows_items_in_every_section(demo, email):
    access = access_for(User.objects.get(email=email))
    with activate(access):
        sections = home(access, home_sections(access)).sections
    empty = [s.key for s in sections if not s.items and s.key not in CALM]
    assert sections and not empty, empty
