"""Signals the domain apps send where Django sends none.

``bulk_changed`` follows a set-based write (``QuerySet.update()``, ``bulk_create``, COPY)
that model signals never see, so listeners such as readiness still learn that a district's
evidence changed. ``sender`` is the model class; ``district_ids`` the districts touched.
Send it inside the writing transaction: listeners act on commit.
"""

from django.dispatch import Signal

bulk_changed = Signal()
