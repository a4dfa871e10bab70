"""The Celery app. JSON only; tasks take ids and are queued after commit."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("pillarwise")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
