"""Site-wide guards over the demo district, for every demo person.

Each demo person signs in and follows every same-site link from the home page
(tests/crawl.py). No link they are shown may lead them to an error page: a link to a page
their role may not open (403), to nothing (404) or to a crash (500) is a broken link.
"""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
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
