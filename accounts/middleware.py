"""Session idle timeout and the two-factor gate."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from identity import mfa

from . import two_factor

# Session keys (set at sign-in by accounts.signals).
LAST_SEEN = "pw_last_seen"
TWO_FACTOR = "pw_2fa"  # "verify" or "setup" until the second factor is proved
TWO_FACTOR_CHECKED = "pw_2fa_checked"
# The last-seen time is written at most once a minute, so an active session costs one
# session write a minute rather than one per request.
TOUCH_EVERY = 60
# A district may turn its requirement on while people are signed in: it is re-read this
# often per session (one small query), not on every request.
RECHECK_EVERY = 300


class IdleTimeoutMiddleware:
    """Sign out a session that made no request for SESSION_IDLE_TIMEOUT seconds."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if "_auth_user_id" in session:
            now = int(time.time())
            last = session.get(LAST_SEEN)
            if last is not None and now - last > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                if request.headers.get("HX-Request"):
                    return HttpResponse(headers={"HX-Redirect": reverse(settings.LOGIN_URL)})
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= TOUCH_EVERY:
                session[LAST_SEEN] = now
        return self.get_response(request)


def _allowed_paths() -> tuple[str, ...]:
    return (
        reverse("accounts:two_factor_verify"),
        reverse("accounts:two_factor_setup"),
        reverse("accounts:logout"),
        settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}",
    )


class TwoFactorMiddleware:
    """Before any other page: prove the second factor, or set one up if it is required."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if "_auth_user_id" in session and request.user.is_authenticated:
            now = int(time.time())
            if now - session.get(TWO_FACTOR_CHECKED, 0) >= RECHECK_EVERY:
                refresh(session, request.user)
            step = session.get(TWO_FACTOR)
            if step and not request.path.startswith(_allowed_paths()):
                if request.user.is_verified():
                    session.pop(TWO_FACTOR, None)
                else:
                    target = "two_factor_verify" if step == "verify" else "two_factor_setup"
                    url = reverse(f"accounts:{target}")
                    if request.method == "GET" and not request.headers.get("HX-Request"):
                        return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
                    return redirect(url)
        return self.get_response(request)


def refresh(session, user) -> None:
    """Decide what the session still owes: a code ("verify"), a set-up ("setup"), or nothing."""
    session[TWO_FACTOR_CHECKED] = int(time.time())
    if getattr(user, "otp_device", None) is not None:
        session.pop(TWO_FACTOR, None)
    elif mfa.vouched(session, user):
        # Signed in through the district's provider, which proved a second factor that the
        # district accepts instead of Pillarwise's own code.
        session.pop(TWO_FACTOR, None)
    elif two_factor.has_device(user):
        session[TWO_FACTOR] = "verify"
    elif two_factor.is_required(user):
        session[TWO_FACTOR] = "setup"
    else:
        session.pop(TWO_FACTOR, None)
