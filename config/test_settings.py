"""Settings for the test suite: the real settings, with test-only speed-ups.

DATABASE_URL and REDIS_URL pass through, so CI runs the suite on PostgreSQL and Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-" + "x7Qm2pL9vR4tW8yZ3nB6cF1hJ5kD0sG" * 2)
os.environ.setdefault("DEBUG", "false")
# The test client and the live server speak plain HTTP.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")

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
