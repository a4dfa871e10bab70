"""Small web helpers shared by the apps."""

from django.conf import settings


def absolute_url(path: str) -> str:
    """The full address of a site path, for links that leave the site (e-mails, QR codes,
    survey and check-in links handed out on paper)."""
    return f"{settings.BASE_URL}{path}"


def qr_svg(url: str, *, title: str, scale: int = 8) -> bytes:
    """A QR code of ``url`` as a standalone SVG document, for an ``<img>`` or a download.

    Standalone means with ``xmlns``: an SVG served as image/svg+xml without it is not an
    image to a browser, which then draws nothing. Black on white with the standard quiet
    zone, so phone cameras read it from paper too.
    """
    import io

    import segno

    out = io.BytesIO()
    segno.make_qr(url, error="m").save(
        out,
        kind="svg",
        scale=scale,
        border=4,
        title=title,
        xmldecl=False,
        svgns=True,
        dark="#000",
        light="#fff",
    )
    return out.getvalue()
