"""The home page (what needs this person now), their e-mail settings, and the one-click
unsubscribe link of each e-mail (RFC 8058: it works without signing in)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from schools.permissions import home_sections

from . import selectors, services
from .forms import NoticeSettingsForm
from .models import Kind, OptOut
from .notices import read_unsubscribe_token


@login_required
@require_GET
def home(request):
    access = request.access
    home = selectors.home(access, home_sections(access), timezone.localdate())
    return render(request, "today/home.html", {"home": home})


@login_required
@require_http_methods(["GET", "POST"])
def notice_settings(request):
    off = set(OptOut.objects.filter(user=request.user).values_list("kind", flat=True))
    form = NoticeSettingsForm(
        request.POST or None, initial={"receive": [k for k in Kind.values if k not in off]}
    )
    if request.method == "POST" and form.is_valid():
        services.notice_settings_save(user=request.user, receive=form.cleaned_data["receive"])
        messages.success(request, "Your e-mail settings were saved.")
        return redirect("today:settings")
    return render(request, "today/settings.html", {"form": form})


# Mail clients POST the one-click answer without a session or a CSRF token (RFC 8058); the
# signed token is what authorises it, and it can only ever switch one kind of e-mail off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    found = read_unsubscribe_token(token)
    if found is None:
        return render(request, "today/unsubscribe.html", {"invalid": True})
    user_id, kind = found
    done = False
    if request.method == "POST":
        services.unsubscribe(user_id=user_id, kind=kind)
        done = True
    return render(
        request,
        "today/unsubscribe.html",
        {"kind_label": Kind(kind).label, "done": done, "token": token},
    )
