"""Cursor pages: a million devices page by their sort key (``WHERE asset_tag > …``), with
neither OFFSET nor COUNT(*), so the thousandth page costs what the first does."""

from rest_framework.pagination import CursorPagination

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class Cursor(CursorPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "pk"


def cursor(*ordering: str) -> type[Cursor]:
    """A cursor paginator in ``ordering`` (its first field should be unique or nearly)."""
    return type("Cursor", (Cursor,), {"ordering": ordering})
