"""Signals the domain apps send where Django sends none.

``bulk_changed`` follows a set-based write (``QuerySet.update()``, ``bulk_create``,
``bulk_update``, COPY) that model signals never see, so listeners such as readiness still
learn that a district's evidence changed. ``sender`` is the model class; ``district_ids``
the districts touched, or ``school_ids`` the schools (the listener finds their districts).
Send it inside the writing transaction: listeners act on commit, and a rollback drops it.
"""

from django.dispatch import Signal

bulk_changed = Signal()
