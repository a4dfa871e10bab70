"""Small web helpers shared by the apps."""

from django.conf import settings


def absolute_url(path: str) -> str:
    """The full address of a site path, for links that leave the site (e-mails, QR codes,
    survey and check-in links handed out on paper)."""
    return f"{settings.BASE_URL}{path}"
