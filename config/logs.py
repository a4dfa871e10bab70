"""Logging pieces referred to from settings.LOGGING."""

import logging

from django.conf import settings


class ClientErrorsOnOneLine(logging.Filter):
    """A refused request (a 403, a 400, a 404) is one log line, not a traceback.

    Django logs "Forbidden (Permission denied): /path" with the PermissionDenied traceback
    attached; the refusal is the expected answer and the line says all there is to say, so
    the traceback is dropped (server errors keep theirs). Under DEBUG, runserver's own
    access line ("GET /path HTTP/1.1" 403) already names the refusal, so Django's second
    line about it is dropped too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if not isinstance(status, int) or not 400 <= status < 500:
            return True
        if settings.DEBUG and record.name == "django.request":
            return False
        record.exc_info = None
        record.exc_text = None
        return True
