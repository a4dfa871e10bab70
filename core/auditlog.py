"""Writing audit events: one INSERT each, from wherever the act happens.

``record`` takes what the caller knows; the user and district default to the request being
served (``schools.scoping.current_request``), so a hook deep in a service needs no request
passed down to it. The scoping mechanism itself sits below this module: it announces a
refusal (``schools.signals.access_refused``) and ``audit.signals`` records it here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from django.conf import settings
from django.db import DatabaseError, transaction

from schools.scoping import current_request

from .models import AuditEvent, Kind

log = logging.getLogger(__name__)

__all__ = ["Kind", "record", "subject_hash"]


def subject_hash(text: str) -> str:
    """An HMAC-SHA256 of a normalised e-mail address: groupable, not readable."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, text.strip().lower().encode(), hashlib.sha256).hexdigest()


def _district_of_access(access) -> int | None:
    ids = getattr(access, "district_ids", None)
    return min(ids) if ids else None


def record(
    kind: str,
    *,
    user=None,
    district=None,
    school=None,
    obj=None,
    object_type: str = "",
    object_id="",
    detail: str = "",
    subject: str = "",
) -> AuditEvent | None:
    """Store one event. ``detail`` must never carry a student data value.

    Missing pieces are taken from the request being served: its user, and the district of
    ``school`` or else the user's (lowest-numbered) district. A failure to write is logged
    and swallowed: the audit log must not turn a working page into an error page, and a
    refused write inside a broken transaction would otherwise mask the real error.
    """
    request = current_request()
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        if candidate is not None and candidate.is_authenticated:
            user = candidate
    district_id = getattr(district, "pk", district)
    school_id = getattr(school, "pk", school)
    if district_id is None and school is not None and hasattr(school, "district_id"):
        district_id = school.district_id
    if district_id is None and request is not None:
        district_id = _district_of_access(getattr(request, "access", None))
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    event = AuditEvent(
        kind=kind,
        user=user if user is not None and getattr(user, "pk", None) else None,
        district_id=district_id,
        school_id=school_id,
        object_type=object_type[:60],
        object_id=str(object_id or "")[:40],
        detail=detail[:200],
        subject_hash=subject_hash(subject) if subject else "",
    )
    try:
        # A savepoint, so a failed insert cannot poison the caller's transaction.
        with transaction.atomic():
            event.save(force_insert=True)
    except DatabaseError:
        log.exception("Could not write audit event %s", kind)
        return None
    return event
