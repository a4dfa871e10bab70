"""Signals the domain apps send where Django sends none.

``access_refused`` and ``csv_downloaded`` are sent by this app's scoping mechanism and CSV
exports, for the audit log above it (``audit.signals`` records them): ``access_refused``
carries ``kind`` (``denied_scope`` or ``denied_role``) and the event's fields as
``core.auditlog.record`` takes them; ``csv_downloaded`` the file's ``filename``. Both are
sent while the request is served, so the event names its user and district.

``bulk_changed`` follows a set-based write (``QuerySet.update()``, ``bulk_create``,
``bulk_update``, COPY) that model signals never see, so listeners such as readiness still
learn that a district's evidence changed. ``sender`` is the model class; ``district_ids``
the districts touched, or ``school_ids`` the schools (the listener finds their districts).
Send it inside the writing transaction: listeners act on commit, and a rollback drops it.
"""

from django.dispatch import Signal

bulk_changed = Signal()
access_refused = Signal()
csv_downloaded = Signal()
