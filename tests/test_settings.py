"""Settings fail loudly and pass Django's deployment check under production variables."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Where the parts are: with DEBUG off each must be named (config/settings.py).
PARTS = ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "BASE_URL")
# A production environment, as docker-compose.yml gives it. `check` connects to nothing.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "pillarwise.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://pillarwise.example.org",
    "DATABASE_URL": "postgres://pillarwise:secret@postgres:5432/pillarwise",
    "REDIS_URL": "redis://redis:6379/0",
    "EMAIL_URL": "smtp+tls://pillarwise:secret@smtp.example.org:587",
    "BASE_URL": "https://pillarwise.example.org",
}


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
        *PARTS,
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
        {k: v for k, v in PRODUCTION.items() if k != "DEBUG"},
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_the_deploy_check_passes_under_production_variables():
    result = _run(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


# --- where the parts are: no silent fallback with DEBUG off (issue 16, item 8) ----------


@pytest.mark.parametrize("name", PARTS)
def test_with_debug_off_a_missing_part_stops_start_up_saying_what_to_set(name):
    result = _run({k: v for k, v in PRODUCTION.items() if k != name}, "check")
    assert result.returncode != 0
    assert f"{name} must be set when DEBUG is off" in result.stderr, result.stderr
    assert f"e.g. {name}=" in result.stderr  # an example of what to set
    assert "malformed" not in result.stderr


@pytest.mark.parametrize("name", PARTS)
def test_with_debug_off_an_empty_part_is_a_missing_one(name):
    result = _run({**PRODUCTION, name: ""}, "check")
    assert result.returncode != 0
    assert f"{name} must be set when DEBUG is off" in result.stderr, result.stderr


MALFORMED = [
    ("DATABASE_URL", "postgres://pillarwise:secret@postgres:port/pillarwise", "Port"),
    ("DATABASE_URL", "mysql://pillarwise@mysql/pillarwise", "neither PostgreSQL"),
    ("DATABASE_URL", "postgres://pillarwise:secret@postgres:5432/", "no database"),
    ("REDIS_URL", "http://redis:6379/0", "redis://"),
    ("REDIS_URL", "redis://redis:port/0", "Port"),
    ("REDIS_URL", "redis://", "no host"),
    ("EMAIL_URL", "smpt://smtp.example.org:25", "smpt"),
    ("EMAIL_URL", "smtp://", "no mail server"),
    ("BASE_URL", "pillarwise.example.org", "https://"),
    ("BASE_URL", "https://", "https://"),
    ("BASE_URL", "https://pillarwise.example.org:port", "Port"),
    ("BASE_URL", "https://pillarwise.example.org/?next=/", "query"),
]


@pytest.mark.parametrize(("name", "value", "why"), MALFORMED)
def test_a_malformed_part_stops_start_up_saying_why(name, value, why):
    result = _run({**PRODUCTION, name: value}, "check")
    assert result.returncode != 0
    assert f"{name} is malformed" in result.stderr, result.stderr
    assert why in result.stderr
    assert f"e.g. {name}=" in result.stderr


def test_a_malformed_part_stops_start_up_with_debug_on_too():
    result = _run({"DEBUG": "true", "BASE_URL": "pillarwise.example.org"}, "check")
    assert result.returncode != 0
    assert "BASE_URL is malformed" in result.stderr, result.stderr


def test_with_debug_on_the_embedded_parts_still_serve_make_run():
    result = _run(
        {"DEBUG": "true"},
        "shell",
        "-c",
        "from django.conf import settings as s; print(repr([s.DATABASES['default']['ENGINE'], "
        "s.REDIS_URL, s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, s.BASE_URL]))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == repr(
        [
            "django.db.backends.sqlite3",
            "",
            True,
            "django.core.mail.backends.console.EmailBackend",
            "http://127.0.0.1:8000",
        ]
    )


def test_redis_url_memory_runs_tasks_in_process_when_chosen():
    result = _run(
        {**PRODUCTION, "REDIS_URL": "memory://"},
        "shell",
        "-c",
        "from django.conf import settings as s; print(repr([s.REDIS_URL, "
        "s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND']]))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == repr(
        ["", True, "django.core.cache.backends.locmem.LocMemCache"]
    )


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
    "PD_REPORT_DEBOUNCE_SECONDS": "0",
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
    # The suite may itself run under pytest-xdist; the child is told its worker, if any,
    # by ``extra`` alone.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in HOSTILE and k not in WHERE and k != "PYTEST_XDIST_WORKER"
    }
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


# --- the deployment files name every part (no Docker engine here: read them) ------------


def _compose_app_env() -> dict[str, str]:
    """The ``x-app-env`` block of docker-compose.yml, which web, worker and beat share."""
    text = (ROOT / "docker-compose.yml").read_text()
    block = text.split("x-app-env: &app-env\n", 1)[1].split("\n\n", 1)[0]
    return dict(line.strip().split(": ", 1) for line in block.splitlines())


def _compose_value(value: str, operator_sets: dict[str, str]) -> str:
    """Compose's interpolation: ``${X:?msg}`` needs X, ``${X:-d}`` falls back to d."""

    def one(match):
        name, op, rest = match.groups()
        if op == ":?":
            assert name in operator_sets, f"the test names no value for {name}"
            return operator_sets[name]
        return operator_sets.get(name, rest)

    return re.sub(r"\$\{(\w+)(:\?|:-)([^}]*)\}", one, value)


def test_docker_compose_names_every_part_and_starts_with_only_the_required_variables():
    env = _compose_app_env()
    for name in PARTS:
        assert name in env, f"docker-compose.yml gives the app no {name}"
        assert f"${{{name}:-" not in env[name], f"{name} falls back to a default in the file"
    # An operator who sets only what the file requires gets settings that load.
    required = {
        "POSTGRES_PASSWORD": "secret",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "pillarwise.example.org",
        "BASE_URL": "https://pillarwise.example.org",
        "EMAIL_URL": "smtp+tls://pillarwise:secret@smtp.example.org:587",
    }
    values = {name: _compose_value(value.strip('"'), required) for name, value in env.items()}
    result = _run(values, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_build_step_names_every_part():
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    line = next(
        line for line in text.splitlines() if line.startswith("RUN") and "collectstatic" in line
    )
    values = dict(re.findall(r"\b([A-Z_]+)=(\S+)", line.split("python manage.py")[0]))
    assert set(PARTS) <= set(values)
    result = _run(values, "check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_xdist_worker_takes_its_own_redis_database():
    from config.test_settings import _redis_url_for_this_worker as for_worker

    assert for_worker("redis://127.0.0.1:6379/3", "gw2") == "redis://127.0.0.1:6379/5"
    assert for_worker("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/1"
    assert for_worker("redis://127.0.0.1:6379/3", "") == "redis://127.0.0.1:6379/3"
    assert for_worker("memory://", "gw1") == "memory://"
    worker_one = _suite_settings({"PYTEST_XDIST_WORKER": "gw1"})
    assert worker_one["REDIS_URL"] == repr("redis://127.0.0.1:6390/6")


def test_the_readme_lists_every_variable_the_settings_read():
    """The settings' promise: an operator finds every variable in the README's table."""
    text = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', text))
    assert {"SECRET_KEY", "DATABASE_URL", "ENCRYPTION_KEYS"} <= read  # the pattern still reads
    readme = (ROOT / "README.md").read_text()
    missing = sorted(v for v in read if f"`{v}`" not in readme)
    assert not missing, f"add these to the README's table of variables: {missing}"


@pytest.mark.django_db
def test_the_apps_postgresql_connections_run_without_jit():
    """A page's query crosses the JIT cost threshold only in a large district, and then
    compiles for longer than it runs (config/settings.py)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
