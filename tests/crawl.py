"""Follow every same-site link a person sees, from the home page, with the test client.

Used by the site-wide guard tests: no link leads a person to a page their role may not open
(tests/test_links.py), numbers are formatted alike on every page and CSV
(tests/test_number_format.py), and every page fits a phone (tests/browser/test_page_width.py).

The crawl is bounded: it follows at most ``per_pattern`` links of each URL pattern (same
view, same query-string keys), so a list of 2,000 devices costs a handful of requests while
every kind of page is still reached.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from django.urls import Resolver404, resolve

from schools.demo import DEMO_PASSWORD, LOGINS

# Places a crawl does not follow: static files, the Django admin's own pages (it is
# Django's, and a superuser's link to its index is still checked), signing out.
NOT_FOLLOWED = ("/static/", "/media/")
ADMIN = "/admin/"
SIGN_OUT = "/accounts/logout/"


class _Links(HTMLParser):
    """The targets of the ``<a href>`` and ``<img src>`` of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])


def _same_site(targets: list[str], base: str) -> list[str]:
    found = []
    for target in targets:
        parts = urlsplit(urljoin(base, target.strip()))
        if parts.scheme not in ("", "http", "https"):
            continue  # mailto:, tel:, javascript:, data:
        if parts.netloc not in ("", "testserver"):
            continue  # another site (materials links, documentation)
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def links_on(html: str, base: str) -> tuple[list[str], list[str]]:
    """Same-site links and images of a page, as paths with their query strings (fragments
    dropped)."""
    parser = _Links()
    parser.feed(html)
    return _same_site(parser.hrefs, base), _same_site(parser.images, base)


def pattern(url: str) -> tuple[str, tuple[str, ...]]:
    """The view a URL resolves to and its query-string keys: what makes pages alike."""
    parts = urlsplit(url)
    try:
        name = resolve(parts.path).view_name
    except Resolver404:
        name = f"unresolved {parts.path}"
    return name, tuple(sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}))


@dataclass
class Page:
    url: str
    status: int
    content_type: str
    content: bytes
    linked_from: list[str] = field(default_factory=list)

    @property
    def is_html(self) -> bool:
        return self.content_type.startswith("text/html")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_csv(self) -> bool:
        return self.content_type.startswith("text/csv")

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


@dataclass
class Crawl:
    pages: dict[str, Page]
    image_urls: set[str]
    truncated: bool  # the limit stopped the crawl with pages still to see

    @property
    def broken(self) -> list[Page]:
        return [p for p in self.pages.values() if p.status >= 400]

    def html(self) -> list[Page]:
        return [p for p in self.pages.values() if p.status == 200 and p.is_html]

    def csv(self) -> list[Page]:
        return [p for p in self.pages.values() if p.status == 200 and p.is_csv]

    def images(self) -> list[Page]:
        return [p for p in self.pages.values() if p.url in self.image_urls]


def crawl(client, start: str = "/", *, per_pattern: int = 4, limit: int = 1500) -> Crawl:
    """Breadth-first GETs from ``start`` through the links (and images) each page shows to
    this client; a redirect is followed as a link of the page that answered it."""
    pages: dict[str, Page] = {}
    sources: dict[str, list[str]] = {start: []}
    queue: deque[str] = deque([start])
    taken: Counter = Counter()
    image_urls: set[str] = set()

    def found(link: str, on: str) -> None:
        if link.startswith(NOT_FOLLOWED) or link == SIGN_OUT:
            return
        if link in sources:
            if on not in sources[link]:
                sources[link].append(on)
            return
        sources[link] = [on]
        queue.append(link)

    while queue and len(pages) < limit:
        url = queue.popleft()
        key = pattern(url)
        if taken[key] >= per_pattern:
            continue
        taken[key] += 1
        response = client.get(url)
        page = Page(
            url=url,
            status=response.status_code,
            content_type=response.get("Content-Type", ""),
            content=b"".join(response.streaming_content)
            if response.streaming
            else response.content,
            linked_from=sources[url],
        )
        pages[url] = page
        if page.status in (301, 302, 303, 307, 308):
            for target in _same_site([response["Location"]], url):
                found(target, url)
        if page.status != 200 or not page.is_html or url.startswith(ADMIN):
            continue
        links, images = links_on(page.text, url)
        for link in links:
            found(link, url)
        for image in images:
            image_urls.add(image)
            found(image, url)
    unvisited = [u for u in queue if taken[pattern(u)] < per_pattern and u not in pages]
    return Crawl(pages, image_urls, truncated=bool(unvisited))


def demo_client(client_class, email: str):
    """A test client signed in as one of the demo people (through the sign-in form, as
    django-axes wants a request)."""
    client = client_class()
    response = client.post("/accounts/login/", {"username": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"{email} could not sign in"
    return client


DEMO_EMAILS = [login.email for login in LOGINS]
