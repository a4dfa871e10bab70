"""Writes of the API app: making and revoking personal tokens, noting their use."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import auditlog
from core.models import Kind

from .models import ApiToken, digest, new_token

MAX_DAYS = 366
DEFAULT_DAYS = 90
# A token's last use is written at most this often, so a busy integration costs one
# UPDATE a minute rather than one per request.
TOUCH_EVERY = timedelta(minutes=1)


@transaction.atomic
def token_create(*, user, name: str, read_only: bool = True, days: int = DEFAULT_DAYS):
    """Make a token for ``user``; returns (the row, the token), the token shown once."""
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Say what the token is for."
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        errors["days"] = f"A token lasts from 1 to {MAX_DAYS} days."
    if not user.is_active:
        errors["user"] = "This account is switched off."
    if errors:
        raise ValidationError(errors)
    prefix, token = new_token()
    now = timezone.now()
    row = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=prefix,
        token_hash=digest(token),
        read_only=read_only,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    auditlog.record(
        Kind.API_TOKEN,
        user=user,
        obj=row,
        detail=f"made {'read-only' if read_only else 'read-write'} token {row.shown_prefix}",
    )
    return row, token


@transaction.atomic
def token_revoke(*, token: ApiToken, by) -> ApiToken:
    """Revoke ``token`` now (no-op when it already is); it answers 401 from then on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        auditlog.record(
            Kind.API_TOKEN, user=by, obj=token, detail=f"revoked token {token.shown_prefix}"
        )
    return token


def token_touch(token: ApiToken, now=None) -> None:
    """Note a use of ``token`` (one UPDATE, at most once a minute per token)."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
