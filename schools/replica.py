"""Reports and exports read from a PostgreSQL read replica, when there is one.

``REPLICA_DATABASE_URL`` adds the ``replica`` database and ``ReplicaRouter``
(config/settings.py). A view that only reads district-wide figures (a report, a large CSV
export) is decorated with ``@reads_from_replica``: inside it every read through the ORM (and
the COPY of an export, which follows its queryset's database) goes to the replica, and
everything else, the session, the access lookup, the audit row of a download, goes to the
primary as before. Without the setting the decorator changes nothing. A replica lags the
primary by a little (streaming replication: usually well under a second), which a report
can afford and a form that writes cannot: never decorate a view that writes.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"
_on_replica: ContextVar[bool] = ContextVar("pillarwise_reads_from_replica", default=False)


@contextmanager
def replica_reads():
    """Reads in this block go to the replica (when one is configured)."""
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


def reads_from_replica(view):
    """Decorate a read-only view: its reads, and those of the response it streams, go to
    the replica."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with replica_reads():
            response = view(request, *args, **kwargs)
        if getattr(response, "streaming", False):
            # A streamed export reads its rows after the view returned.
            content = response.streaming_content

            def rows():
                with replica_reads():
                    yield from content

            response.streaming_content = rows()
        return response

    wrapper.reads_from_replica = True
    return wrapper


class ReplicaRouter:
    """The replica for reads inside ``replica_reads``; the primary for everything else."""

    def db_for_read(self, model, **hints):
        if _on_replica.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # a replica follows the primary's schema
