"""The pages families and teachers reach without signing in.

- The district's public list of approved apps, in English or Spanish (``?lang=es``), with
  what each holds about students and a link to its agreement: nothing else of the
  register (no requests, no reviewers, no internal reasons) is on it.
- A teacher's request, from the address on their school's staff roster, and the page
  their e-mailed link opens, where they confirm it and follow its review."""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods

from schools.models import District
from schools.scoping import outside_scope

from . import selectors, services
from .forms import PublicRequestForm
from .models import App, AppRequest

LANGUAGES = (("en", "English"), ("es", "Español"))


def _language(request) -> str:
    wanted = (request.GET.get("lang") or request.LANGUAGE_CODE or "en")[:2]
    return wanted if wanted in dict(LANGUAGES) else "en"


def _language_links(path: str):
    return [(code, label, f"{path}?lang={code}") for code, label in LANGUAGES]


def _district(slug: str) -> District:
    """The district a public page is about: anyone may name one by its slug."""
    with outside_scope():
        return get_object_or_404(District, slug=slug)


@require_GET
def public_register(request, slug):
    district = _district(slug)
    language = _language(request)
    with outside_scope():
        apps = list(App.objects.filter(district=district).approved().order_by("name", "pk"))
    today = timezone.localdate()
    with translation.override(language):
        return render(
            request,
            "software/public_register.html",
            {
                "district": district,
                "apps": apps,
                "today": today,
                "language": language,
                "languages": _language_links(request.path),
            },
        )


@require_http_methods(["GET", "POST"])
def public_request(request, slug):
    district = _district(slug)
    form = PublicRequestForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.request_app(
                district=district,
                email=data["email"],
                name=data["name"],
                vendor=data["vendor"],
                website=data["website"],
                why=data["why"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # The same answer whether or not the address is on a roster.
            sent = True
    return render(
        request,
        "software/public_request.html",
        {"district": district, "form": form, "sent": sent, "language": "en"},
    )


@require_http_methods(["GET", "POST"])
def public_request_status(request, slug, token):
    with outside_scope():
        app_request = AppRequest.for_token(token).filter(district__slug=slug).first()
        if app_request is None:
            return render(
                request, "software/public_request_unknown.html", {"language": "en"}, status=404
            )
        confirmed = services.request_confirm(request=app_request)
        if request.method == "POST" and request.POST.get("withdraw"):
            with contextlib.suppress(ValidationError):
                services.request_withdraw(request=app_request)
        page = selectors.request_page(app_request)
    return render(
        request,
        "software/public_request_status.html",
        {**page, "district": app_request.district, "confirmed": confirmed, "language": "en"},
    )
