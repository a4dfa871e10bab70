"""Writes of the today app: a person's e-mail settings (which kinds they receive)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from accounts.models import User

from .models import Kind, OptOut


@transaction.atomic
def notice_settings_save(*, user, receive: Iterable[str]) -> None:
    """Receive exactly the kinds in ``receive``; opt out of every other kind."""
    wanted = set(receive) & set(Kind.values)
    OptOut.objects.filter(user=user, kind__in=wanted).delete()
    have = set(OptOut.objects.filter(user=user).values_list("kind", flat=True))
    OptOut.objects.bulk_create(
        [OptOut(user=user, kind=k) for k in Kind.values if k not in wanted and k not in have],
        ignore_conflicts=True,
    )


def unsubscribe(*, user_id: int, kind: str) -> bool:
    """Opt ``user_id`` out of ``kind`` (a one-click link); True when it was received before."""
    if not User.objects.filter(pk=user_id).exists():
        return False  # the account was deleted since the e-mail left
    _row, created = OptOut.objects.get_or_create(user_id=user_id, kind=kind)
    return created
