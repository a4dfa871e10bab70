"""Every page each demo person reaches fits a 390 px phone, and the heat map fits 1366 px.

The pages come from the crawl of tests/crawl.py (what the person reaches by following
links). On each page the document must not scroll sideways: a wide table scrolls inside its
own box instead. Every image must draw, and each kind of page passes the axe scan once
(per URL pattern across the run, which keeps the run time reasonable). One browser
context per person, one tab reused for all their pages.
"""

import re

import pytest
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import expect

from schools.demo import LOGINS
from tests.browser.conftest import TIMEOUT_MS, _watched, csp_violations, sign_in
from tests.browser.images import undrawn_images
from tests.crawl import crawl, demo_client, pattern

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "pillarwise-demo"
PHONE_390 = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
# One demo person per role (the three principals differ only by school; the crawl of
# tests/test_site_crawl.py checks all seven without a browser), and the superuser.
ONE_PER_ROLE = list(
    {login.role or "superuser": login.email for login in reversed(LOGINS)}.values()
)[::-1]
# Kinds of page (URL patterns) already scanned by axe in this run, whoever saw them.
SCANNED: set[tuple] = set()

# How far the page reaches past the screen's width. A phone browser widens its layout
# viewport to fit content that overflows (window.innerWidth grows with it), so the page
# is measured against the width asked for as well as against innerWidth.
_SIDEWAYS = """(width) => Math.max(document.documentElement.scrollWidth, window.innerWidth)
    - Math.min(width, window.innerWidth)"""
# The elements wider than the window, to say what overflows when a page fails.
_CULPRITS = """() => Array.from(document.querySelectorAll('body *'))
    .filter((el) => el.getBoundingClientRect().right > 391
                    && !el.parentElement.closest('.table-responsive'))
    .slice(0, 3)
    .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))"""


@pytest.fixture
def demo(db):
    call_command("seed_demo", allow_production=True)


def _context(browser, live_server, viewport, **options):
    context = browser.new_context(base_url=live_server.url, viewport=viewport, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context, _watched(context)


@pytest.mark.parametrize("email", ONE_PER_ROLE, ids=lambda email: email.split("@")[0])
def test_every_page_fits_a_phone(browser, live_server, demo, axe_check, email):
    pages = [p.url for p in crawl(demo_client(Client, email), per_pattern=2).html()]
    context, tab = _context(browser, live_server, PHONE_390, is_mobile=True, has_touch=True)
    try:
        sign_in(tab, email, DEMO_PASSWORD)
        expect(tab.get_by_role("heading", level=1)).to_be_visible()
        wide, undrawn, inaccessible = [], [], []
        for url in pages:
            if url.startswith("/admin/"):
                continue  # Django's own admin is not ours to lay out
            tab.goto(url)
            overflow = tab.evaluate(_SIDEWAYS, PHONE_390["width"])
            if overflow > 0:
                wide.append(f"{url}: {overflow}px too wide ({tab.evaluate(_CULPRITS)})")
            undrawn += [f"{url}: {src}" for src in undrawn_images(tab)]
            if pattern(url) not in SCANNED:
                SCANNED.add(pattern(url))
                try:
                    axe_check(tab)
                except AssertionError as failure:
                    rules = sorted(set(re.findall(r"Rule Violated:\s+(\S+)", str(failure))))
                    inaccessible.append(f"{url}: {', '.join(rules)}\n{failure}")
        assert not wide, "\n".join(wide)
        assert not undrawn, "\n".join(undrawn)
        assert not inaccessible, "\n".join(inaccessible)
        violations = csp_violations(tab)
        assert not violations, violations
    finally:
        context.close()


def test_the_district_heat_map_shows_every_column_at_1366(browser, live_server, demo, axe_check):
    context, tab = _context(browser, live_server, LAPTOP)
    try:
        sign_in(tab, "admin@riverbend.example.org", DEMO_PASSWORD)
        tab.goto("/readiness/")
        tab.get_by_role("link", name="Compare every school").click()
        heat_map = tab.get_by_role("table").first
        expect(heat_map).to_contain_text("Maple Grove Elementary")
        assert tab.evaluate(_SIDEWAYS, LAPTOP["width"]) <= 0
        # Every column is in view: the table is no wider than the box it sits in.
        clipped = heat_map.evaluate(
            """(table) => {
                const box = table.closest('.table-responsive') || table.parentElement;
                const right = box.getBoundingClientRect().right;
                return Array.from(table.rows[0].cells)
                    .filter((cell) => cell.getBoundingClientRect().right > right + 1)
                    .map((cell) => cell.textContent.trim());
            }"""
        )
        assert clipped == []
        axe_check(tab)
    finally:
        context.close()
