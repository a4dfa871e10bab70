"""Settings fail loudly and pass Django's deployment check under production variables."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(env_overrides, *args):
    # The suite's own settings module sets test-only variables; start from a clean slate.
    dropped = {
        "SECRET_KEY",
        "DEBUG",
        "DJANGO_SETTINGS_MODULE",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = _run({"DEBUG": "false"}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_is_off_unless_set():
    result = _run(
        {"SECRET_KEY": secrets.token_urlsafe(50)},
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_the_deploy_check_passes_under_production_variables():
    result = _run(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "pillarwise.example.org",
            "CSRF_TRUSTED_ORIGINS": "https://pillarwise.example.org",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the suite's own settings ignore the shell (issue 15, item 24) ----------------------

DUMP = """
import json, django
from django.conf import settings
django.setup()
values = {
    name: repr(getattr(settings, name))
    for name in dir(settings)
    if name.isupper() and " at 0x" not in repr(getattr(settings, name))
}
print(json.dumps(values))
"""
HOSTILE = {
    "DEBUG": "true",
    "SECRET_KEY": "hostile-" + "k" * 60,
    "TIME_ZONE": "Pacific/Kiritimati",
    "EMAIL_URL": "smtp+tls://someone:secret@mail.example.org:587",
    "DEFAULT_FROM_EMAIL": "hostile@example.org",
    "BASE_URL": "https://hostile.example.org",
    "ALLOWED_HOSTS": "hostile.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://hostile.example.org",
    "SESSION_COOKIE_AGE": "5",
    "SESSION_IDLE_TIMEOUT": "1",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "0",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false",
    "SECURE_HSTS_PRELOAD": "false",
    "PASSWORD_RESET_TIMEOUT": "1",
    "AXES_FAILURE_LIMIT": "1000",
    "AXES_COOLOFF_MINUTES": "0",
    "TRUSTED_PROXY_COUNT": "3",
    "READINESS_DEBOUNCE_SECONDS": "0",
    "READINESS_NIGHTLY_HOUR": "13",
    "CELERY_TASK_TIME_LIMIT": "1",
    "CONN_MAX_AGE": "0",
    "LOG_LEVEL": "DEBUG",
}
WHERE = {
    "DATABASE_URL": "sqlite:////tmp/pillarwise-settings-test.sqlite3",
    "REDIS_URL": "redis://127.0.0.1:6390/5",
}


def _suite_settings(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in HOSTILE and k not in WHERE}
    env.update(DJANGO_SETTINGS_MODULE="config.test_settings", **WHERE, **extra)
    result = subprocess.run(
        [sys.executable, "-c", DUMP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_suite_settings_ignore_what_the_shell_exports():
    clean = _suite_settings({})
    hostile = _suite_settings(HOSTILE)
    differ = {k: (clean.get(k), hostile.get(k)) for k in clean.keys() | hostile.keys()}
    differ = {k: v for k, v in differ.items() if v[0] != v[1]}
    assert not differ
    # The values the suite relies on, named.
    assert hostile["DEBUG"] == "False"
    assert hostile["TIME_ZONE"] == "'America/New_York'"
    assert hostile["EMAIL_BACKEND"] == "'django.core.mail.backends.locmem.EmailBackend'"
    assert hostile["SECURE_SSL_REDIRECT"] == hostile["SESSION_COOKIE_SECURE"] == "False"
    assert hostile["SECURE_HSTS_SECONDS"] == "31536000"
    assert hostile["SESSION_IDLE_TIMEOUT"] == "1800"
    assert hostile["BASE_URL"] == "'http://127.0.0.1:8000'"
    assert hostile["SECRET_KEY"].startswith("'test-only-")
    # Where the database and Redis are still comes from the environment.
    assert "/tmp/pillarwise-settings-test.sqlite3" in hostile["DATABASES"]
    assert hostile["REDIS_URL"] == repr(WHERE["REDIS_URL"])
