"""Settings for the test suite: the real settings, with test-only speed-ups.

The suite's values do not depend on the shell: every variable that config/settings.py
reads is ignored here (its default applies, or the value below) except DATABASE_URL and
REDIS_URL, which pass through so CI runs the suite on PostgreSQL and Redis. A developer
with DEBUG=true or a TIME_ZONE exported gets the same suite as CI (tests/test_settings.py
checks this). DEBUG is off, as in production, so the suite names every part it uses:
with neither variable exported it runs on a SQLite file with tasks in-process.
"""

import os
import re
from pathlib import Path

# Where the database and the broker are: the only choices left to the environment.
PASS_THROUGH = ("DATABASE_URL", "REDIS_URL")
# The values the suite runs with, whatever the shell says.
FIXED = {
    "SECRET_KEY": "test-only-" + "x7Qm2pL9vR4tW8yZ3nB6cF1hJ5kD0sG" * 2,
    "DEBUG": "false",
    # The test client and the live server speak plain HTTP.
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    # Mail stays in memory (django.core.mail.outbox; tests/smtp.py for a real server), and
    # links are written for the address the test servers answer at.
    "EMAIL_URL": "memorymail://",
    "BASE_URL": "http://127.0.0.1:8000",
}
# When the shell names no database or broker: a SQLite file (pytest-django tests in its
# own database) and tasks run in-process.
EMBEDDED = {
    "DATABASE_URL": f"sqlite:///{Path(__file__).resolve().parent.parent / 'db.sqlite3'}",
    "REDIS_URL": "memory://",
}


def settings_variables() -> set[str]:
    """Every environment variable config/settings.py reads (``env.<type>("NAME", ...)``)."""
    source = Path(__file__).with_name("settings.py").read_text()
    return set(re.findall(r'\benv(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', source))


# Removed for the whole test process, so that a worker or a command the suite starts in a
# subprocess sees the same clean environment.
for _name in settings_variables() - set(PASS_THROUGH):
    os.environ.pop(_name, None)
os.environ.update(FIXED)
for _name, _value in EMBEDDED.items():
    if not os.environ.get(_name):
        os.environ[_name] = _value


def _redis_url_for_this_worker(url: str, worker: str) -> str:
    """Under pytest-xdist each worker (gw0, gw1, ...) takes its own Redis database, the
    one the shell names plus the worker's number, as each takes its own test database:
    one worker's cache flush or queue never reaches another's."""
    match = re.fullmatch(r"(rediss?://[^/]+)(?:/(\d*))?", url)
    number = re.fullmatch(r"gw(\d+)", worker)
    if not (match and number):
        return url
    return f"{match.group(1)}/{int(match.group(2) or 0) + int(number.group(1))}"


os.environ["REDIS_URL"] = _redis_url_for_this_worker(
    os.environ["REDIS_URL"], os.environ.get("PYTEST_XDIST_WORKER", "")
)

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
WHITENOISE_AUTOREFRESH = True
# Tasks run in-process in the suite, so a test sees their effect; the one test that
# exercises the real broker and a real worker turns this off for its duration.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# The suite's OIDC, SAML, OneRoster and Ed-Fi servers listen on 127.0.0.1; the test of the
# outbound guard turns this off (tests/core/test_outbound.py).
OUTBOUND_PRIVATE_ADDRESSES = True
