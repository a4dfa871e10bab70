"""Settings of the measuring processes: the production settings, reachable by the test client.

DEBUG stays off (as in production) so Django keeps no query log of its own; the parts that
count queries use `CaptureQueriesContext`, which turns the log on for its block only.
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-" + "q8Lr3vT6yN1mP4sW7zB0cF2hJ5kD9gX" * 2)
os.environ.setdefault("DEBUG", "false")
# The in-process test client speaks plain HTTP on "testserver".
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
# With DEBUG off every part is named: tasks run in-process unless REDIS_URL names a broker
# (bench/load.py gives its gunicorn the real one), mail goes to the console.
os.environ.setdefault("REDIS_URL", "memory://")
os.environ.setdefault("EMAIL_URL", "consolemail://")
os.environ.setdefault("BASE_URL", "http://127.0.0.1:8000")

from config.settings import *  # noqa: E402,F403

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
# Production names static files from the manifest `collectstatic` writes; the in-process
# parts do not collect them (the load part does, for gunicorn), so they use plain names.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
