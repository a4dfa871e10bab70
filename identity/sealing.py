"""Client secrets at rest: encrypted with a key derived from SECRET_KEY.

A database dump or a backup then holds no usable secret. Rotating SECRET_KEY makes stored
secrets unreadable (SECRET_KEY_FALLBACKS are tried too); the district admin pastes the
secret again, which the settings page says when it happens.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

_PURPOSE = b"pillarwise.identity.client-secret"


def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(_PURPOSE + b"\0" + key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(k) for k in keys])


def seal(plain: str) -> str:
    """The encrypted form of ``plain`` ("" stays "")."""
    if not plain:
        return ""
    return _keys().encrypt(plain.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The secret, "" if none was stored, None if it cannot be read (SECRET_KEY changed)."""
    if not sealed:
        return ""
    try:
        return _keys().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
