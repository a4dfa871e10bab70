"""Whether the images of the page shown really drew (an SVG the browser cannot parse, a
404 or a wrong content type all leave an image of natural width 0)."""

from tests.browser.conftest import TIMEOUT_MS

_ALL_SETTLED = "() => Array.from(document.images).every((img) => img.complete)"
_NOT_DRAWN = """() => Array.from(document.images)
    .filter((img) => img.naturalWidth === 0)
    .map((img) => img.getAttribute('src').slice(0, 80))"""


def undrawn_images(page) -> list[str]:
    """The sources (cut to 80 characters) of the page's images that drew nothing, once
    every image has finished loading or failing."""
    page.wait_for_function(_ALL_SETTLED, timeout=TIMEOUT_MS)
    return page.evaluate(_NOT_DRAWN)
