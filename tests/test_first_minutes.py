"""Issue 15, item 23: a newcomer's first minutes with `make run`.

The steps of the Makefile's `run` target (migrate, seed_demo, runserver) run for real on a
new SQLite file, as a newcomer runs them: they print no warning, a 403 is one log line
rather than a traceback, and the site has its icon.
"""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from config.test_settings import settings_variables

ROOT = Path(__file__).resolve().parent.parent
# Django's own notice on starting runserver: advice, not a fault.
DJANGO_NOTICES = (
    "WARNING: This is a development server.",
    "For more information on production servers see",
)
# A logged warning or error, a Python warning (DeprecationWarning...), a traceback.
WARNING = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Warning\b|Traceback|[Dd]eprecat")


def run_steps() -> list[list[str]]:
    """The manage.py commands of the Makefile's `run` target, in order."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun: install\n", 1)[1].split("\n\n", 1)[0]
    steps = [line.strip().split() for line in recipe.splitlines() if "manage.py" in line]
    assert [s[1:3] for s in steps] == [
        ["manage.py", "migrate"],
        ["manage.py", "seed_demo"],
        ["manage.py", "runserver"],
    ]
    return [[sys.executable, *s[1:]] for s in steps]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def newcomer_env(tmp_path) -> dict:
    """A shell like a newcomer's: none of Pillarwise's variables, DEBUG on (as `make run`
    exports it), no Redis, a new SQLite file."""
    keep = {k: v for k, v in os.environ.items() if k not in settings_variables()}
    keep.pop("DJANGO_SETTINGS_MODULE", None)
    keep.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return {**keep, "DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}


def unexpected_lines(output: str) -> list[str]:
    return [
        line
        for line in output.splitlines()
        if WARNING.search(line)
        and not line.startswith(DJANGO_NOTICES)
        and " django.server " not in line  # runserver's access lines (403s are WARNING)
    ]


def sign_in(base: str, email: str, password: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/accounts/login/", timeout=30).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": email, "password": password}
    ).encode()
    opener.open(f"{base}/accounts/login/", data=data, timeout=30).read()
    assert any(c.name == "sessionid" for c in jar)
    return opener


def status_of(opener, url: str) -> int:
    try:
        return opener.open(url, timeout=30).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_make_run_steps_print_no_warnings_a_403_is_one_line_and_there_is_an_icon(
    tmp_path,
):
    migrate, seed, runserver = run_steps()
    env = newcomer_env(tmp_path)
    for step in (migrate, seed):
        done = subprocess.run(
            step, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr
        assert not unexpected_lines(done.stdout + done.stderr), step

    port = _free_port()
    log = tmp_path / "runserver.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [*runserver[:-1], f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5).read()  # noqa: S310
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)

        coach = sign_in(base, "coach@riverbend.example.org", "pillarwise-demo")
        members = "/districts/1/members/"  # a district admin's page: a coach is refused
        assert status_of(coach, base + members) == 403
        home = coach.open(base + "/", timeout=30).read().decode()
        icon = re.search(r'<link rel="icon" href="([^"]+)"', home)[1]
        assert status_of(coach, base + icon) == 200
        assert status_of(coach, base + "/favicon.ico") == 200
    finally:
        server.terminate()
        server.wait(timeout=30)

    output = log.read_text()
    assert not unexpected_lines(output), output
    assert [line for line in output.splitlines() if members in line] == [
        next(line for line in output.splitlines() if members in line and '" 403 ' in line)
    ], output


def test_the_package_metadata_uses_the_spdx_licence_string():
    # setuptools deprecates `license = { text = ... }` (a warning on every `make install`);
    # the SPDX string needs setuptools 77 or newer to build.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "AGPL-3.0-or-later"
    requires = project["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(7[7-9]|[89]\d|\d{3,})(\.\d+)*", r) for r in requires)


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]


def test_every_page_layout_links_the_icon():
    layouts = [
        path
        for directory in TEMPLATE_DIRS
        for path in directory.rglob("*.html")
        # An e-mail's HTML body (templates/<app>/email/) is read in a mail client, not served.
        if "<html" in path.read_text() and "email" not in path.parts
    ]
    assert len(layouts) >= 4  # the site, the public survey pages, the 500 and 503 pages
    missing = [
        str(p.relative_to(ROOT))
        for p in layouts
        if '<link rel="icon" href="{% static \'favicon.svg\' %}"' not in p.read_text()
    ]
    assert not missing


def test_the_icons_are_served(client, db, settings):
    settings.WHITENOISE_USE_FINDERS = True  # the suite does not run collectstatic
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    svg_text = b"".join(svg.streaming_content).decode()
    assert svg_text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200
    assert ico["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(ico.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_a_refused_request_is_logged_on_one_line_and_a_server_error_keeps_its_traceback(
    settings,
):
    import logging

    from config.logs import ClientErrorsOnOneLine

    def record(status):
        try:
            raise PermissionError("refused")
        except PermissionError as exc:
            exc_info = (type(exc), exc, exc.__traceback__)
        entry = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "x", (), exc_info)
        entry.status_code = status
        return entry

    settings.DEBUG = False
    refused = record(403)
    assert ClientErrorsOnOneLine().filter(refused) and refused.exc_info is None
    failed = record(500)
    assert ClientErrorsOnOneLine().filter(failed) and failed.exc_info is not None
    # In development runserver's access line already names the refusal.
    settings.DEBUG = True
    again = record(403)
    assert not ClientErrorsOnOneLine().filter(again)
