"""Site-wide guards over the demo district, for every demo person.

Each demo person signs in and follows every same-site link from the home page
(tests/crawl.py). No link they are shown may lead them to an error page: a link to a page
their role may not open (403), to nothing (404) or to a crash (500) is a broken link.
Every page and every CSV they reach writes its numbers the one way (schools/numbers.py):
no "476.000000000000 hours", no "20.0", no label django-filter could not name. The suite
runs on SQLite and on PostgreSQL, whose aggregates differ.
"""

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client

from tests.crawl import DEMO_EMAILS, crawl, demo_client

# The marker tells pytest-django to create the test database; the module's fixtures then
# share one seeded district.
pytestmark = pytest.mark.django_db

SVG_NAMESPACE = b'xmlns="http://www.w3.org/2000/svg"'


@pytest.fixture(scope="module")
def demo_district(django_db_setup, django_db_blocker):
    """The demo district, seeded once for this module and rolled back after it."""
    with django_db_blocker.unblock():
        cache.clear()
        with transaction.atomic():
            call_command("seed_demo", allow_production=True)
            if connection.vendor == "postgresql":
                # Statistics on the fresh tables, as autovacuum would gather on a live
                # database; without them some plans take minutes.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            yield
            transaction.set_rollback(True)
        cache.clear()


@pytest.fixture(scope="module", params=DEMO_EMAILS, ids=lambda email: email.split("@")[0])
def crawled(request, demo_district, django_db_blocker):
    """What one demo person reaches by following links (crawled once per person)."""
    with django_db_blocker.unblock():
        return crawl(demo_client(Client, request.param))


def _where(page) -> str:
    return f"{page.url} answered {page.status}, linked from {', '.join(page.linked_from)}"


def test_the_crawl_sees_the_whole_site(crawled):
    assert not crawled.truncated, "the crawl stopped at its limit; raise it"
    assert len(crawled.html()) >= 40


def test_no_link_leads_to_an_error_page(crawled):
    broken = [_where(p) for p in crawled.broken]
    assert not broken, "\n".join(broken)


def test_every_image_a_page_shows_is_an_image_a_browser_draws(crawled):
    for image in crawled.images():
        assert image.status == 200 and image.is_image, _where(image)
        if image.content_type.startswith("image/svg+xml"):
            # A standalone SVG without its namespace loads but draws nothing.
            assert SVG_NAMESPACE in image.content, f"{image.url} has no SVG namespace"


# A decimal number standing alone: not part of an address (127.0.0.1), a time
# (05:39:53.44), a version, a word or a longer number.
DECIMAL = re.compile(
    r"(?<![\w.:/#-])(?P<money>\$?)(?:\d{1,3}(?:,\d{3})+|\d+)\.(?P<decimals>\d+)"
    r"(?P<percent>%?)(?![\w]|\.\d)"
)
# The places each kind of figure may show (schools/numbers.py).
MOST_PLACES, PERCENT_PLACES = 2, 1


def badly_written(text: str) -> list[str]:
    """The numbers of ``text`` with trailing zeros or more decimals than their unit allows.

    Money alone keeps two decimals when there are cents ($12.50); a percentage shows one
    decimal at most; nothing shows more than two."""
    bad = []
    for found in DECIMAL.finditer(text):
        decimals = found["decimals"]
        places = PERCENT_PLACES if found["percent"] else MOST_PLACES
        cents = found["money"] and len(decimals) == 2 and decimals != "00"
        if len(decimals) > places or (decimals.endswith("0") and not cents):
            bad.append(found.group(0))
    return bad


class _Shown(HTMLParser):
    """What a person reads on a page: its text and the values in its visible form fields;
    apart, the JSON data islands its charts are drawn from."""

    HIDDEN_INPUTS = {"hidden", "checkbox", "radio", "submit", "button"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.data: list[str] = []
        self._skip = 0
        self._data_island = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
            self._data_island = attrs.get("type") == "application/json"
        if tag == "input" and attrs.get("type", "text") not in self.HIDDEN_INPUTS:
            self.parts.append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
            self._data_island = False

    def handle_data(self, data):
        if self._data_island:
            self.data.append(data)
        elif not self._skip:
            self.parts.append(data)


def _chart_figures(value):
    """The figures of a chart's data that a tooltip would show as they are: a float with a
    binary tail (0.30000000000000004) or a decimal sent as text ("476.000000000000"). A
    float's trailing ".0" is not shown by the browser and is not counted."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [bad for item in value for bad in _chart_figures(item)]
    if isinstance(value, float) and len(repr(value).partition(".")[2]) > MOST_PLACES:
        return [repr(value)]
    if isinstance(value, str) and re.fullmatch(r"-?\d+\.\d+", value):
        return badly_written(value)
    return []


def badly_shown(html: str) -> list[str]:
    parser = _Shown()
    parser.feed(html)
    bad = badly_written("\n".join(parser.parts))
    for island in parser.data:
        bad += _chart_figures(json.loads(island))
    return bad


def test_every_page_writes_its_labels_and_numbers_the_one_way(crawled):
    problems = []
    for page in crawled.html():
        if "[invalid name]" in page.text:
            problems.append(f"{page.url}: a field labelled [invalid name]")
        problems += [f"{page.url}: {n}" for n in sorted(set(badly_shown(page.text)))]
    assert not problems, "\n".join(problems)


def test_every_csv_writes_its_numbers_the_one_way(crawled):
    assert crawled.csv(), "the crawl found no CSV export"
    problems = []
    for page in crawled.csv():
        for row in csv.reader(io.StringIO(page.text.lstrip("\ufeff"))):
            for cell in row:
                if re.fullmatch(r"-?\d+\.\d+", cell) and badly_written(cell):
                    problems.append(f"{page.url}: {cell} in {row}")
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("476.000000000000 hours", ["476.000000000000"]),
        ("a target of 20.0", ["20.0"]),
        ("29.35% agree", ["29.35%"]),
        ("0.0%", ["0.0%"]),
        ("$21,700.00 and $0.00", ["$21,700.00", "$0.00"]),
        ("4.50 / 5", ["4.50"]),
        ("12.91 hours, 29.3%, $12.50, $1,200, 1,234.5, 4", []),
        ("http://127.0.0.1:8000/pd/ at 05:39:53.443957, v1.10.2", []),
    ],
)
def test_the_number_check_itself(text, bad):
    assert badly_written(text) == bad


class _Tables(HTMLParser):
    """Each table of a page and whether it sits in a scrolling box that is focusable and
    named (the {% tablebox %} of schools/templatetags/tables.py)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[dict] = []
        self.tables: list[bool] = []

    VOID = {"br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            parent = self.stack[-1] if self.stack else {}
            self.tables.append(
                "table-responsive" in (parent.get("class") or "").split()
                and parent.get("tabindex") == "0"
                and parent.get("role") == "region"
                and bool((parent.get("aria-label") or "").strip())
            )
        if tag not in self.VOID:
            self.stack.append(attrs)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()


def test_every_table_scrolls_in_a_focusable_named_box(crawled):
    loose = []
    for page in crawled.html():
        if page.url.startswith("/admin/"):
            continue  # Django's own admin lays out its own tables
        parser = _Tables()
        parser.feed(page.text)
        loose += [f"{page.url}: table {i + 1}" for i, ok in enumerate(parser.tables) if not ok]
    assert not loose, "\n".join(loose)


def test_the_chart_data_check_itself():
    data = '{"months": [["Oct", 96.0], ["Nov", 0.30000000000000004]], "total": "476.0000"}'
    assert badly_shown(f'<script type="application/json">{data}</script>') == [
        "0.30000000000000004",
        "476.0000",
    ]
