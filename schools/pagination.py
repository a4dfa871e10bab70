"""Pages of lists too large to count (issue 17: never count what is not shown).

``ForwardPaginator`` reads one row past the page instead of running COUNT(*) over the
whole list, so a page knows whether a next page exists but not how many there are; its
template is ``includes/forward_pagination.html`` ("Page 3", Previous / Next).
"""

from __future__ import annotations

import sys

from django.core.paginator import Page, Paginator


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
