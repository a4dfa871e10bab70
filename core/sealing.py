"""Secrets at rest: one scheme for every stored credential.

A district gives Pillarwise credentials for other systems: an identity provider's client
secret, Google's service-account key, a roster server's client secret. Each is stored
encrypted (Fernet: AES-128-CBC with an HMAC, from ``cryptography``), so a database dump or
a backup holds no usable secret, and is shown to nobody once saved.

Keys: ``ENCRYPTION_KEYS`` (settings; Fernet keys, the first encrypts, all decrypt), then a
key derived from ``SECRET_KEY`` and from each of ``SECRET_KEY_FALLBACKS``. Each purpose
derives its own key, so a secret sealed for one use cannot be read as another's. Rotating:
put the new key first (or the new SECRET_KEY in place with the old one in the fallbacks);
secrets sealed under the old key still open, and are sealed under the new one when next
saved. A secret no key opens (every old key dropped) raises ``SecretUnreadable``; the page
that uses it asks for it again.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """No configured key opens the stored secret (the keys were changed)."""


def derived_key(purpose: str, secret_key: str) -> Fernet:
    digest = hashlib.sha256(purpose.encode() + b"\0" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys(purpose: str) -> MultiFernet:
    configured = [Fernet(k) for k in getattr(settings, "ENCRYPTION_KEYS", []) if k]
    derived = [
        derived_key(purpose, k)
        for k in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    ]
    return MultiFernet(configured + derived)


def seal(plain: str, *, purpose: str) -> str:
    """The encrypted form of ``plain`` for ``purpose`` ("" stays "")."""
    if not plain:
        return ""
    return _keys(purpose).encrypt(plain.encode()).decode()


def unseal(sealed: str, *, purpose: str) -> str:
    """The secret ("" if none was stored); ``SecretUnreadable`` if no key opens it."""
    if not sealed:
        return ""
    try:
        return _keys(purpose).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(purpose) from None
