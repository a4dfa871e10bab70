"""``Authorization: Bearer <token>``: a personal token authenticates as its person."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken, split
from .services import token_touch

KEYWORD = "Bearer"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """A live token (not expired, not revoked, its person active) authenticates as its
    person; ``request.auth`` is the token row, which the permissions read (read-only)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send “Authorization: Bearer <token>”.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("This token is not valid.") from None
        prefix = split(token)
        row = (
            ApiToken.objects.select_related("user").filter(prefix=prefix).first()
            if prefix
            else None
        )
        now = timezone.now()
        if row is None or not row.matches(token):
            raise exceptions.AuthenticationFailed("This token is not valid.")
        if row.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token was revoked.")
        if row.expires_at <= now:
            raise exceptions.AuthenticationFailed("This token has expired.")
        if not row.user.is_active:
            raise exceptions.AuthenticationFailed("This account is switched off.")
        token_touch(row, now)
        return row.user, row

    def authenticate_header(self, request):
        return f'{KEYWORD} realm="api"'
