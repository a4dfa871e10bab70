"""Signals the domain apps send where Django sends none.

``evidence_changed`` is how readiness learns that its evidence changed: every write path
of the domain apps that changes what an indicator reads (a service, an importer, a task,
a command, an admin save) sends it, once per write, and readiness listens to it alone
(readiness/signals.py); no model signal is watched. ``sender`` is the model class written;
``school_ids`` the schools whose evidence changed, or ``district_ids`` the districts (for a
district-wide write: its settings, the year's rollover, an import). Send it inside the
writing transaction: the listener acts on commit (one debounced run per district and
burst), and a rollback drops it. ``tests/readiness/test_every_write_path.py`` runs every
write path and fails on one that forgets.

``access_refused`` and ``csv_downloaded`` are sent by this app's scoping mechanism and CSV
exports, for the audit log above it (``audit.signals`` records them): ``access_refused``
carries ``kind`` (``denied_scope`` or ``denied_role``) and the event's fields as
``core.auditlog.record`` takes them; ``csv_downloaded`` the file's ``filename``. Both are
sent while the request is served, so the event names its user and district.
"""

from django.dispatch import Signal

evidence_changed = Signal()
access_refused = Signal()
csv_downloaded = Signal()
