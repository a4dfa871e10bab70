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

from config.settings import *  # noqa: E402,F403

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
# Production names static files from the manifest `collectstatic` writes; the in-process
# parts do not collect them (the load part does, for gunicorn), so they use plain names.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
