"""Dates and times as people read them: the one format (config/formats), the district's zone.

Templates use the named formats (``|date``, ``|date:"DATETIME_FORMAT"``, ``|time``); Python
text uses these, so a message, a log line or an object's name reads like the page beside it.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format


def shown_date(value: date | datetime | None) -> str:
    """ "Aug 15, 2026" (a datetime: its day in the active zone); "" for None."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "DATE_FORMAT")


def shown_datetime(value: datetime | None) -> str:
    """ "Aug 15, 2026, 3:30 PM" in the active zone (the district's, in a request)."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "DATETIME_FORMAT")
