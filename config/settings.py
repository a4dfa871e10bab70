"""Pillarwise settings, read from the environment.

Every variable is listed in the README (tests/test_settings.py holds it to that). Unsafe
or malformed values stop start-up with a message that names the variable; nothing insecure
is a silent default outside DEBUG.

Why one long module: Django reads one settings module, and an operator reading what a
variable does finds every one of them here, in the order of the README's table of them.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
import redis.connection
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-pillarwise-secret-key-never-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif SECRET_KEY == _DEV_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY is the development key; set a secret one.")

# --- Where the parts are: the database, the broker, the mail server, the site's address --
# `make run` (DEBUG=true) falls back to embedded parts for an unset variable: a SQLite
# file, tasks run inside the web process, e-mail printed to the console, links to
# http://127.0.0.1:8000. With DEBUG off nothing falls back: an unset variable stops
# start-up and says what to set. A malformed one stops it whatever DEBUG says.
IN_PROCESS = "memory://"  # REDIS_URL's value for "no broker: run tasks in this process"
_EMBEDDED = {
    "DATABASE_URL": f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    "REDIS_URL": IN_PROCESS,
    "EMAIL_URL": "consolemail://",
    "BASE_URL": "http://127.0.0.1:8000",
}
_WHAT_TO_SET = {
    "DATABASE_URL": "the PostgreSQL database, e.g. "
    "DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/pillarwise",
    "REDIS_URL": "the Redis that the web app, the worker and beat share, e.g. "
    f"REDIS_URL=redis://HOST:6379/0 (or {IN_PROCESS} to run tasks inside the web process, "
    "with no worker and no nightly jobs)",
    "EMAIL_URL": "the mail server, e.g. EMAIL_URL=smtp+tls://USER:PASSWORD@smtp.example.org:587 "
    "(or consolemail:// to print mail to the log)",
    "BASE_URL": "the address people reach Pillarwise at, e.g. "
    "BASE_URL=https://pillarwise.example.org (links in e-mails and QR codes start with it)",
}
_WITHOUT_IT = {
    "DATABASE_URL": "data would go to a SQLite file",
    "REDIS_URL": "tasks would run inside the web process",
    "EMAIL_URL": "e-mail would only be printed to the console",
    "BASE_URL": "links in e-mails would point at http://127.0.0.1:8000",
}


def _where(name: str, value: str) -> str:
    """The variable's value; unset, the embedded part under DEBUG, else stop start-up."""
    if value:
        return value
    if DEBUG:
        return _EMBEDDED[name]
    raise ImproperlyConfigured(
        f"{name} must be set when DEBUG is off (without it {_WITHOUT_IT[name]}). "
        f"Set it to {_WHAT_TO_SET[name]}."
    )


def _malformed(name: str, problem) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name} is malformed: {problem}. Set it to {_WHAT_TO_SET[name]}.")


ALLOWED_HOSTS = [
    h for h in env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]) if h
]
CSRF_TRUSTED_ORIGINS = [o for o in env.list("CSRF_TRUSTED_ORIGINS", default=[]) if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "axes",  # failed-login lockout (docs/security.md)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Sign-in through the district's own provider (identity/, docs/sign-in.md): allauth's
    # social accounts with two protocols. Its account pages are not mounted.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    # Pillarwise: one app per part of the job; `schools` is imported by all.
    "accounts",
    "identity",  # each district's identity providers and the SSO sign-in rules
    "schools",
    "core",  # the task outbox and the audit log, which every app writes to
    "software",  # the district's apps and their data-privacy agreements
    "initiatives",
    "stakeholders",
    "pd",
    "equity",
    "readiness",
    "audit",
    "rest_framework",  # the REST API (api/), its schema and its Swagger UI files
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "googlesync",  # Chromebooks from Google Admin (docs/google-sync.md)
    "today",  # home pages of what needs each person, the digest and reminders
    "rostering",  # rosters from the SIS: OneRoster and Ed-Fi (docs/rostering.md)
]

MIDDLEWARE = [
    # First, the security headers, so that every response gets them, whatever answers it
    # below (the health check, a static file, a redirect, an error page). The HTTPS redirect
    # is answered by SecurityMiddleware itself, so the other two stand above it.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Container health checks call http://127.0.0.1:8000/healthz, which must answer before
    # host validation and the HTTPS redirect (SECURE_REDIRECT_EXEMPT below).
    "config.health.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # allauth keeps its per-request context here (social sign-in, identity/).
    "allauth.account.middleware.AccountMiddleware",
    # Signs out a session left idle longer than SESSION_IDLE_TIMEOUT.
    "accounts.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Must come after authentication: it activates the user's scope for the request.
    "schools.scoping.ScopeMiddleware",
    # A user with a second factor proves it, and one whose district requires it sets it up,
    # before any other page.
    "accounts.middleware.TwoFactorMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "schools.context_processors.access",
                "csp.context_processors.nonce",
            ],
        },
    },
]

_database_url = _where("DATABASE_URL", env.str("DATABASE_URL", default=""))
try:
    _database = env.db_url_config(_database_url)
except ValueError as exc:
    raise _malformed("DATABASE_URL", exc) from None
if _database.get("ENGINE") not in (
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
):
    raise _malformed("DATABASE_URL", "it names neither PostgreSQL (postgres://) nor SQLite")
if not _database.get("NAME"):
    raise _malformed("DATABASE_URL", "it names no database")
DATABASES = {"default": _database}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # JIT compilation off for the app's connections. It starts above a plan's cost
    # threshold, which a page's query crosses only in a large district: at a million
    # students the district home's coverage query compiled for 21-54 ms to run for 7 ms.
    # Pages and exports are short queries; the bench's floors still measure with JIT on.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# A PostgreSQL read replica for the district-wide reports and exports (schools/replica.py,
# docs/scale.md "Past one machine"); unset, every read goes to the default database.
_replica_url = env.str("REPLICA_DATABASE_URL", default="")
if _replica_url:
    try:
        _replica = env.db_url_config(_replica_url)
    except ValueError as exc:
        raise _malformed("REPLICA_DATABASE_URL", exc) from None
    if _replica.get("ENGINE") != "django.db.backends.postgresql" or not _replica.get("NAME"):
        raise _malformed("REPLICA_DATABASE_URL", "it names no PostgreSQL database")
    DATABASES["replica"] = {
        **_replica,
        "OPTIONS": {**_replica.get("OPTIONS", {}), "options": "-c jit=off"},
        "CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["schools.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "today:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# NIST SP 800-63B: length over composition, a list of known passwords, no forced rotation.
# No rule asks for digits, capitals or symbols; a passphrase of 12 to 128 characters is fine.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "accounts.passwords.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: it refuses a locked-out account or address before the
    # password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# An invitation link stays valid for a week; Django's reset tokens share this timeout.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=7 * 24 * 3600)

LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
# The one date and time format (config/formats/en/formats.py); each district's own zone is
# activated per request (District.time_zone, schools.scoping.district_time_zone).
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Served at the site's root by WhiteNoise: /favicon.ico, which browsers and tools ask for
# on their own (pages link static/favicon.svg).
WHITENOISE_ROOT = BASE_DIR / "public"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Form widgets render through the project's templates, so one template writes the value of
# every number input (templates/django/forms/widgets/number.html: "6", not "6.00").
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

_email_url = _where("EMAIL_URL", env.str("EMAIL_URL", default=""))
try:
    EMAIL_CONFIG = env.email_url_config(_email_url)
except ImproperlyConfigured as exc:
    raise _malformed("EMAIL_URL", exc) from None
if EMAIL_CONFIG["EMAIL_BACKEND"].endswith(".smtp.EmailBackend") and not EMAIL_CONFIG.get(
    "EMAIL_HOST"
):
    raise _malformed("EMAIL_URL", "it names no mail server")
vars().update(EMAIL_CONFIG)
# Absolute links in e-mails (invitations) and QR codes start with this.
BASE_URL = _where("BASE_URL", env.str("BASE_URL", default="")).rstrip("/")
try:
    _base = urlsplit(BASE_URL)
    _base.port  # noqa: B018 - reading it checks the port is a number
except ValueError as exc:
    raise _malformed("BASE_URL", exc) from None
if _base.scheme not in ("http", "https") or not _base.hostname:
    raise _malformed("BASE_URL", "it must start with https:// (or http://) and a host name")
if _base.query or _base.fragment:
    raise _malformed("BASE_URL", "it must not carry a query (?) or a fragment (#)")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="pillarwise@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Redis and Celery -------------------------------------------------------------
# With REDIS_URL=memory:// (the embedded default of `make run`) tasks run in-process, so
# nothing else need be running, and REDIS_URL below is empty. With a Redis URL, a worker
# and beat consume from Redis.
_redis_url = _where("REDIS_URL", env.str("REDIS_URL", default=""))
if _redis_url == IN_PROCESS:
    REDIS_URL = ""
else:
    try:
        _redis = redis.connection.parse_url(_redis_url)
    except ValueError as exc:
        raise _malformed("REDIS_URL", exc) from None
    if not (_redis.get("host") or _redis.get("path")):
        raise _malformed("REDIS_URL", "it names no host")
    REDIS_URL = _redis_url
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {
        "default": {
            # Misses instead of errors while Redis is down (config/cache.py).
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # In-process tasks never reach a broker; naming a host keeps kombu from warning that
    # none was given ("No hostname was supplied") on every command.
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# --- Faults: a stopped Redis (core/queue.py, docs/privacy.md) ---------------------
# Two retry policies, one per side of the broker:
# - Publishing (a web request, a command, a task queuing another) gives up after about
#   two seconds; the task is then held in the database (core.PendingTask) and re-sent
#   when the broker is back. The transport options' max_retries/interval_* and the
#   publish retry policy bound that side.
# - Consuming (the worker, beat) reconnects for as long as Redis is down and carries on
#   when it returns: broker_connection_max_retries is read only by the worker's consumer
#   and beat, and None means "never give up" (a number ends the process, as 1 did: a
#   worker exited about two seconds after Redis stopped). Retries back off 2, 4, ... 30 s.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task running when the connection drops is left to finish: every task is idempotent,
# so the late acknowledgement that may redeliver it costs a no-op run (a finished import
# or readiness run is skipped), where cancelling would throw away a long job's work.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    # The publisher's connection attempts (kombu's default_channel): one retry, quickly.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    # A task taken by a worker that dies is redelivered after this long (longer than the
    # hard time limit, so a slow task is never run twice at once).
    "visibility_timeout": env.int(
        "CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 600
    ),
    # How often a worker looks for such abandoned messages (seconds × every Nth look).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# A worker killed mid-task (OOM, kill -9): the message goes back to the queue.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    # Every district's readiness, recomputed at night (readiness/tasks.py).
    "readiness-nightly": {
        "task": "readiness.tasks.compute_all_districts",
        "schedule": crontab(
            hour=env.int("READINESS_NIGHTLY_HOUR", default=2),
            minute=env.int("READINESS_NIGHTLY_MINUTE", default=30),
        ),
    },
    # Each district's student-record retention rule (audit/purge.py, docs/privacy.md).
    "apply-student-retention": {
        "task": "audit.tasks.apply_retention",
        "schedule": crontab(hour=2, minute=30),
    },
    # Each approved district's Chromebooks from Google Admin (googlesync/tasks.py).
    "google-devices-nightly": {
        "task": "googlesync.tasks.sync_all_districts",
        "schedule": crontab(hour=env.int("GOOGLE_SYNC_NIGHTLY_HOUR", default=1), minute=45),
    },
    # Each district's devices by auto-update expiration, for the Google reports (googlesync).
    "count-aue-nightly": {
        "task": "googlesync.tasks.count_aue_all_districts",
        "schedule": crontab(hour=4, minute=15),
    },
    # Data-privacy agreements that expire within 60 days, to tech staff (software/tasks.py).
    "remind-expiring-dpas": {
        "task": "software.tasks.remind_expiring_dpas",
        "schedule": crontab(hour=6, minute=15),
    },
    # The twelve months of PD hours the reports keep per person move on (pd/hours.py).
    "pd-hours-nightly": {
        "task": "pd.tasks.move_hours_windows",
        "schedule": crontab(hour=1, minute=15),
    },
    # Each person's weekly digest (Monday morning) and the day's reminders (today/tasks.py);
    # each is sent once per person and period, whatever the number of runs.
    "weekly-digests": {
        "task": "today.tasks.weekly_digests",
        "schedule": crontab(day_of_week=1, hour=env.int("DIGEST_HOUR", default=7), minute=0),
    },
    "daily-reminders": {
        "task": "today.tasks.daily_reminders",
        "schedule": crontab(hour=env.int("REMINDER_HOUR", default=7), minute=30),
    },
    # Every approved roster source, applied at night (rostering/tasks.py).
    "rostering-nightly": {
        "task": "rostering.tasks.nightly",
        "schedule": crontab(hour=1, minute=45),
    },
    # Tasks held while Redis was down (core/queue.py).
    "flush-pending-tasks": {
        "task": "core.tasks.flush_pending_tasks",
        "schedule": 60.0,
    },
}
# After evidence changes, readiness waits this long before recomputing the district, so a
# burst of edits or an import is computed once (readiness/services.py, note_change).
READINESS_DEBOUNCE_SECONDS = env.int("READINESS_DEBOUNCE_SECONDS", default=120)
# Threads (each with its own database connection) that read one readiness run's figures at
# once on PostgreSQL (readiness/services.py, read_indicators): a district's twenty grouped
# scans run side by side. Each worker process then holds up to this many connections.
READINESS_READERS = env.int("READINESS_READERS", default=2)
# After a PD change, the district admin's PD report summary is counted again this much later
# (pd/summary.py): a session's thirty check-ins are counted once.
PD_REPORT_DEBOUNCE_SECONDS = env.int("PD_REPORT_DEBOUNCE_SECONDS", default=60)

# --- Security -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A session lasts at most SESSION_COOKIE_AGE, and ends sooner after SESSION_IDLE_TIMEOUT
# seconds without a request (accounts.middleware.IdleTimeoutMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The health check answers over plain HTTP (config.health.HealthCheckMiddleware).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts and styles only from our own origin, no
# inline script (a script tag may carry the per-request nonce), no framing, forms post
# only to us. Pages load nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# The REST API (api/, docs/api.md): personal tokens, the caller's scope, cursor pages,
# per-token rate limits counted in the cache (Redis in production).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env.str("API_RATE_LIMIT", default="1200/minute")},
    "EXCEPTION_HANDLER": "api.base.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pillarwise API",
    "DESCRIPTION": "Schools, devices, students (pseudonymous), assignments, PD, surveys, "
    "initiatives, readiness and coverage, in the caller's scope. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
    },
    "SECURITY": [{"bearerAuth": []}],
    "ENUM_NAME_OVERRIDES": {
        "DeviceStatusEnum": "equity.inventory.models.DeviceStatus",
        "ReturnConditionEnum": "equity.inventory.models.ReturnCondition",
        "AttendanceStatusEnum": "pd.models.AttendanceStatus",
        "InitiativeStatusEnum": "initiatives.models.Status",
        "GradeEnum": "schools.models.Grade",
    },
}

# Failed sign-ins (django-axes): after AXES_FAILURE_LIMIT failures for one e-mail address,
# or separately from one network address, sign-in is refused for the cool-off time. A
# success resets the count. Unknown addresses are counted like known ones.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own, not the pair
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.lockout.username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are not kept here
AXES_VERBOSE = False
# Proxies in front of the app that append to X-Forwarded-For (0: use the socket address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Sign-in through the district's provider (django-allauth; identity/, docs/sign-in.md).
# Providers are per district rows (identity.Provider), turned into allauth apps per request
# by the adapter; nobody signs up, a provider's sign-in opens an invited account only.
ACCOUNT_ADAPTER = "identity.adapter.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "identity.adapter.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_AUTO_SIGNUP = False
# Redirect URIs given to providers use the scheme people reach the site at.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = _base.scheme
SOCIALACCOUNT_STORE_TOKENS = False  # Pillarwise calls no provider API after sign-in
SOCIALACCOUNT_PROVIDERS = {
    # Keeps the assertion id (replays) and AuthnContext (multi-factor) for identity.services.
    "saml": {"provider_class": "identity.providers.DistrictSAMLProvider"},
}

# Where each district's SIS drops its nightly OneRoster zip: ROSTER_DROP_DIR/<district slug>/.
# A roster source's bundle path must lie inside its own district's folder (rostering.models).
ROSTER_DROP_DIR = env.path("ROSTER_DROP_DIR", default=BASE_DIR / "var" / "roster-drops")

# URLs a district types that the server fetches (IdP metadata, OIDC issuers, roster servers)
# must resolve to public addresses (core/outbound.py); on for a development machine so a
# district can point at servers on loopback, off in production.
OUTBOUND_PRIVATE_ADDRESSES = env.bool("OUTBOUND_PRIVATE_ADDRESSES", default=DEBUG)

# Two-factor (django-otp): the issuer shown in the authenticator app.
OTP_TOTP_ISSUER = "Pillarwise"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"client_errors_on_one_line": {"()": "config.logs.ClientErrorsOnOneLine"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors_on_one_line"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # django-axes reports every sign-in at INFO; failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
        # Django's own records go to the console above, once (its default console handler
        # would print each a second time in development, tracebacks and all).
        "django": {"level": "INFO", "handlers": []},
    },
}

# Google Admin (googlesync, docs/google-sync.md). The Directory API's base URL (a server on
# loopback in the tests and the benchmark); the token endpoint is the key file's token_uri.
GOOGLE_DIRECTORY_API_URL = env.str(
    "GOOGLE_DIRECTORY_API_URL", default="https://admin.googleapis.com/"
)
GOOGLE_API_TIMEOUT = env.float("GOOGLE_API_TIMEOUT", default=60.0)
# Quota answers (403 rateLimitExceeded, 429, 503): wait base * 2**n seconds, this many times.
GOOGLE_SYNC_BACKOFF_SECONDS = env.float("GOOGLE_SYNC_BACKOFF_SECONDS", default=1.0)
GOOGLE_SYNC_MAX_RETRIES = env.int("GOOGLE_SYNC_MAX_RETRIES", default=7)
# Stored credentials (IdP client secrets, Google service-account keys, roster secrets) are
# sealed by core/sealing.py: under ENCRYPTION_KEYS (Fernet keys, the first encrypts, all
# decrypt) when set, else a key derived from SECRET_KEY (and SECRET_KEY_FALLBACKS).
# GOOGLE_SYNC_ENCRYPTION_KEY, the older name of one such key, is still honoured.
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS", default=[]) + [
    k for k in [env.str("GOOGLE_SYNC_ENCRYPTION_KEY", default="")] if k
]
