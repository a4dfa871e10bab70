"""Playwright driving the OS's Chromium against the live test server."""

import os

import pytest
from playwright.sync_api import expect

from tests.services import CHROMIUM, need_chromium

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PHONE = {"width": 375, "height": 740}
# The machine is often loaded (two cores, the suite and a live server): every wait is on a
# condition, with room for a slow moment. A fixed sleep or a short timeout is a flaky test.
TIMEOUT_MS = 30_000
# Playwright's assertions keep their own timeout (5 s unless told otherwise).
expect.set_options(timeout=TIMEOUT_MS)
WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


@pytest.fixture(scope="session")
def browser():
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


# Every page of every browser test is watched for Content-Security-Policy violations: the
# browser's `securitypolicyviolation` events and its console reports both fail the test.
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || location.pathname}:${e.lineNumber}`);
});
"""


def csp_violations(page) -> list[str]:
    """Violations seen on the page now shown (events) plus console reports so far."""
    try:
        events = page.evaluate("window.__cspViolations || []")
    except Exception:  # the page is closing or navigating; the console still counts
        events = []
    return [*events, *page.csp_console]


def _watched(context):
    context.add_init_script(_RECORD_VIOLATIONS)
    page = context.new_page()
    page.csp_console = []
    page.on(
        "console",
        lambda msg: "Content Security Policy" in msg.text and page.csp_console.append(msg.text),
    )
    return page


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = _watched(context)
    yield page
    violations = csp_violations(page)
    context.close()
    assert not violations, violations


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = _watched(context)
    yield page
    violations = csp_violations(page)
    context.close()
    assert not violations, violations


@pytest.fixture
def axe_check():
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page):
        results = axe.run(page, options=WCAG_AA)
        assert results.violations_count == 0, results.generate_report()

    return check


def where_the_server_waits() -> str:
    """What the live server's threads and the database's sessions are doing now: attached
    to a timeout, so that a page that never answered names its cause (a lock, a slow query,
    a thread stuck elsewhere) instead of only the wait."""
    import sys
    import threading
    import traceback

    from django.db import connections

    names = {t.ident: t.name for t in threading.enumerate()}
    lines = ["-- threads of this process"]
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        lines.append(f"thread {names.get(ident, ident)}:")
        lines.extend(traceback.format_stack(frame)[-8:])
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "select pid, state, wait_event_type, wait_event, pg_blocking_pids(pid),"
                " now() - query_start, left(query, 200) from pg_stat_activity"
                " where datname = current_database() and pid <> pg_backend_pid()"
            )
            lines.append("-- sessions of the test database")
            lines.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(lines)


def sign_in(page, email, password):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    try:
        page.get_by_role("button", name="Sign in").click()
    except PlaywrightTimeout as exc:
        raise AssertionError(f"{exc}\n{where_the_server_waits()}") from exc
