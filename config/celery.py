"""The Celery app. JSON only; tasks take ids and are queued after commit."""

import os
import warnings

from celery import Celery
from celery.exceptions import CPendingDeprecationWarning
from celery.signals import celeryd_after_setup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("pillarwise")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# equity is one app in three packages (equity/__init__.py); its task lives in one of them.
app.autodiscover_tasks(["equity.imports"])


@celeryd_after_setup.connect
def _quiet_the_connection_loss_notice(**kwargs):
    """The worker says, on every lost broker connection, that Celery 6 will cancel running
    late-acknowledged tasks; settings keeps them running on purpose (see the comment at
    CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS), so it is not news in the
    log. Installed after the worker's logging set-up, which shows every such warning."""
    warnings.filterwarnings(
        "ignore",
        message=r"\s*In Celery 5\.1 we introduced an optional breaking change",
        category=CPendingDeprecationWarning,
    )
