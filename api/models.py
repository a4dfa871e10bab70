"""Personal API tokens: a person's key for scripts and the district's other systems.

A token is ``pw_<prefix>_<secret>``: the prefix (public, shown in the list) finds the row,
the SHA-256 of the whole token proves it. The token itself is shown once, when made, and
never stored: a leaked database gives no usable key. SHA-256 (not a slow password hash)
is enough for 256 random bits, and keeps every API request to one indexed read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX_LENGTH = 10
SCHEME = "pw"


def new_token() -> tuple[str, str]:
    """A fresh (prefix, token) pair; the token carries 256 random bits after its prefix."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return prefix, f"{SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def split(token: str) -> str | None:
    """The prefix of a well-formed token, or None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != SCHEME or len(parts[1]) != PREFIX_LENGTH:
        return None
    return parts[1]


class ApiTokenQuerySet(models.QuerySet):
    def live(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ApiToken(models.Model):
    """One personal token. It acts as its person, in their scope, with their roles; a
    read-only token cannot write whatever the person's roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “help desk sync”.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    read_only = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    # A token belongs to a person, not to a school: like the user, it is not scoped.
    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({SCHEME}_{self.prefix}_…)"

    @property
    def shown_prefix(self) -> str:
        return f"{SCHEME}_{self.prefix}_…"

    def matches(self, token: str) -> bool:
        return hmac.compare_digest(self.token_hash, digest(token))

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now
