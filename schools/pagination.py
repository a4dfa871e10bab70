"""Pages of lists too large to count (issue 17: never count what is not shown).

``ForwardPaginator`` reads one row past the page instead of running COUNT(*) over the
whole list, so a page knows whether a next page exists but not how many there are; its
template is ``includes/forward_pagination.html`` ("Page 3", Previous / Next).

``KeysetPaginator`` is for the lists that reach thousands of pages (a district's devices,
its audit log): a page starts after the last row of the one before (a cursor in the link),
so the ten-thousandth page costs what the first does; its template is
``includes/keyset_pagination.html`` (First, Previous / Next).
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from datetime import datetime, time

from django.core.paginator import Page, Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q


class ForwardPage(Page):
    def __init__(self, object_list, number, paginator, *, has_more: bool):
        super().__init__(object_list, number, paginator)
        self.has_more = has_more

    def __repr__(self) -> str:
        return f"<Page {self.number}>"

    def has_next(self) -> bool:
        return self.has_more

    def start_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + 1 if self.object_list else 0

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class ForwardPaginator(Paginator):
    """Pages of a list too large to count.

    Django's Paginator runs COUNT(*) over the whole filtered list on every page view; at a
    million devices that count costs more than the page itself. This one reads one row past
    the page instead, so it knows whether a next page exists but not how many pages there
    are: the list shows "devices 51–100" with Previous / Next and no grand total. The
    trade-off is deliberate: totals by school and status are on the coverage pages, which
    count with the (school, status) index, and deep pages still pay for OFFSET, which
    nobody reaches before narrowing the list with a filter or the search.
    """

    def validate_number(self, number) -> int:
        # Never an OFFSET beyond what the database can count (PostgreSQL: bigint; SQLite:
        # 64 bits); a page past the end is simply empty.
        try:
            return min(max(int(number), 1), sys.maxsize // self.per_page)
        except (TypeError, ValueError):
            return 1

    def page(self, number) -> ForwardPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        return ForwardPage(rows[: self.per_page], number, self, has_more=len(rows) > self.per_page)


# --- keyset pages --------------------------------------------------------------------


# The query-string parameters of a page: a list's links keep every other parameter.
PAGE_PARAMETERS = ("page", "after", "before")


class KeysetPage:
    """One page of a ``KeysetPaginator``: its rows, whether there are rows before and after
    it, the cursors that lead there, and the position of its rows for "Devices 51–100"."""

    def __init__(self, object_list, *, start, has_previous, has_next, previous, next):
        self.object_list = object_list
        self.start = start  # the position of the first row, counted from 0
        self._has_previous, self._has_next = has_previous, has_next
        self.previous_cursor, self.next_cursor = previous, next

    def __repr__(self) -> str:
        return f"<Keyset page from row {self.start + 1}>"

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_previous(self) -> bool:
        return self._has_previous

    def has_next(self) -> bool:
        return self._has_next

    def has_other_pages(self) -> bool:
        return self._has_previous or self._has_next

    @property
    def is_first(self) -> bool:
        return self.start == 0 and not self._has_previous

    def start_index(self) -> int:
        return self.start + 1 if self.object_list else 0

    def end_index(self) -> int:
        return self.start + len(self.object_list)


class _CursorEncoder(DjangoJSONEncoder):
    """Django's encoder, but a time keeps its microseconds: a cursor rounded to the
    millisecond would skip the rows between the rounded and the real value."""

    def default(self, o):
        if isinstance(o, datetime | time):
            return o.isoformat()
        return super().default(o)


class KeysetPaginator:
    """Pages of a long list that cost the same at its first page and its ten-thousandth.

    ``ForwardPaginator`` still pays for OFFSET: page 20,000 of a million devices reads and
    throws away a million index entries. Here a page starts where the last one ended: the
    next-page link carries the sort values of the page's last row (a cursor, ``?after=``),
    and the query asks for the rows after them, which an index in the list's order finds
    at once. The previous-page link carries the first row's values (``?before=``): the same
    query in reverse order, read backwards. No page is counted, none is numbered; "First"
    leads back to the start.

    The queryset must be ordered by non-null fields ending with a unique one (the primary
    key), as every list of the site is (its sort whitelist). A cursor that cannot be read
    (edited by hand, from an older sort) answers the first page, never an error.
    """

    def __init__(self, queryset, per_page: int):
        self.queryset = queryset
        self.per_page = per_page
        ordering = list(queryset.query.order_by)
        if not ordering or not all(isinstance(o, str) for o in ordering):
            raise ValueError("a keyset page needs the queryset ordered by field names")
        self.ordering = [o.lstrip("-") for o in ordering]
        self.descending = [o.startswith("-") for o in ordering]

    # A cursor is the values of the ordering fields and the position of the next row, as
    # JSON in URL-safe base64: not a secret (the values are on the page), only checked.
    def _encode(self, values, position: int) -> str:
        text = json.dumps({"v": values, "n": position}, cls=_CursorEncoder)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def _decode(self, cursor: str | None):
        if not cursor:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            values, position = data["v"], int(data["n"])
        except (ValueError, TypeError, KeyError, binascii.Error):
            return None
        if not isinstance(values, list) or len(values) != len(self.ordering) or position < 0:
            return None
        if any(v is None for v in values):
            return None
        return values, position

    def _beyond(self, values, *, forward: bool) -> Q:
        """Rows after (``forward``) or before the row with ``values``, written so the index
        bounds the scan: ``a >= x AND (a > x OR (b >= y AND (b > y OR …)))``."""
        condition = None
        for name, desc, value in reversed(
            list(zip(self.ordering, self.descending, values, strict=True))
        ):
            later = "lt" if desc == forward else "gt"
            if condition is None:
                condition = Q(**{f"{name}__{later}": value})
            else:
                condition = Q(**{f"{name}__{later}e": value}) & (
                    Q(**{f"{name}__{later}": value}) | condition
                )
        return condition

    def _values(self, row) -> list:
        out = []
        for name in self.ordering:
            value = row
            for part in name.split("__"):
                value = getattr(value, "pk" if part == "pk" else part)
            out.append(value)
        return json.loads(json.dumps(out, cls=_CursorEncoder))

    def page(self, *, after: str | None = None, before: str | None = None) -> KeysetPage:
        per = self.per_page
        cursor_after, cursor_before = self._decode(after), self._decode(before)
        if cursor_before is not None and cursor_after is None:
            values, position = cursor_before
            reverse = [
                ("" if d else "-") + n for n, d in zip(self.ordering, self.descending, strict=True)
            ]
            rows = list(
                self.queryset.filter(self._beyond(values, forward=False)).order_by(*reverse)[
                    : per + 1
                ]
            )
            more_before = len(rows) > per
            rows = rows[:per][::-1]
            start = max(position - len(rows), 0) if more_before else 0
            return self._page(rows, start, has_previous=more_before, has_next=True)
        if cursor_after is not None:
            values, start = cursor_after
            rows = list(self.queryset.filter(self._beyond(values, forward=True))[: per + 1])
            has_previous = True
        else:
            start, has_previous = 0, False
            rows = list(self.queryset[: per + 1])
        has_next = len(rows) > per
        return self._page(rows[:per], start, has_previous=has_previous, has_next=has_next)

    def _page(self, rows, start, *, has_previous, has_next) -> KeysetPage:
        return KeysetPage(
            rows,
            start=start,
            has_previous=has_previous and bool(rows),
            has_next=has_next and bool(rows),
            previous=self._encode(self._values(rows[0]), start) if rows else None,
            next=self._encode(self._values(rows[-1]), start + len(rows)) if rows else None,
        )

    def get_page(self, query) -> KeysetPage:
        """The page a request's query string asks for (``after`` or ``before``)."""
        return self.page(after=query.get("after"), before=query.get("before"))


class CountAtMost(int):
    """A count that stopped at ``cap``: ``more`` says there were more (shown "more than")."""

    more: bool = False


def count_at_most(queryset, cap: int = 1000) -> CountAtMost:
    """How many rows ``queryset`` has, counting no further than ``cap``: a report that lists
    its first hundred needs to say "more than 1,000", not to count a million
    (SELECT COUNT(*) FROM (... LIMIT cap + 1))."""
    found = queryset.order_by()[: cap + 1].count()
    counted = CountAtMost(min(found, cap))
    counted.more = found > cap
    return counted
