"""How django-axes names the account and the address of a sign-in attempt."""

from django.conf import settings
from django.shortcuts import render


def username(request, credentials) -> str:
    """The e-mail address as typed, lower-cased: `Ann@X` and `ann@x` count together."""
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = request.POST.get("username", "")
    return (value or "").strip().lower()


def client_ip(request) -> str:
    """The socket address, or the address a trusted proxy in front of the app recorded.

    X-Forwarded-For is only read when TRUSTED_PROXY_COUNT says proxies append to it;
    otherwise anyone could name a fresh address with each attempt.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def locked_out(request, original_response=None, credentials=None):
    """The page for a paused sign-in: the same whether the address, the account or both
    are locked, and whether or not the account exists."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
