"""The service-account key at rest: Fernet (AES-128-CBC with an HMAC) from ``cryptography``.

The key that encrypts it is ``settings.GOOGLE_SYNC_ENCRYPTION_KEY`` when set (a Fernet key,
so it can be rotated apart from the site's secret), otherwise derived from ``SECRET_KEY``.
Changing either makes stored keys unreadable: the connection page then asks for the key
file again, it never shows it.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class KeyUnreadable(Exception):
    """The stored key cannot be decrypted (the site's secret changed)."""


def _fernet() -> Fernet:
    configured = getattr(settings, "GOOGLE_SYNC_ENCRYPTION_KEY", "")
    if configured:
        return Fernet(configured)
    digest = hashlib.sha256(b"pillarwise.googlesync:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise KeyUnreadable(
            "The stored service-account key cannot be read (the site's secret changed): "
            "upload the key file again."
        ) from None
