"""The API's two pages: the person's tokens (on their account menu) and the documentation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import services
from .forms import RevokeForm, TokenForm


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    """Make a token (shown once, on this response only), list them, revoke one."""
    user = request.user
    form = TokenForm(prefix="new")
    made = None
    if request.method == "POST" and "revoke" in request.POST:
        revoke = RevokeForm(request.POST, user=user)
        if revoke.is_valid():
            token = services.token_revoke(token=revoke.cleaned_data["token"], by=user)
            messages.success(request, f"“{token.name}” was revoked.")
        else:
            messages.error(request, "That token is not one of your live tokens.")
        return redirect("api:tokens")
    if request.method == "POST":
        form = TokenForm(request.POST, prefix="new")
        if form.is_valid():
            data = form.cleaned_data
            made = services.token_create(
                user=user,
                name=data["name"],
                read_only=data["access"] == "read",
                days=data["days"],
            )
            form = TokenForm(prefix="new")
    rows = list(user.api_tokens.all())
    return render(
        request,
        "api/tokens.html",
        {"form": form, "made": made, "rows": rows},
        status=400 if request.method == "POST" and made is None else 200,
    )


@require_GET
def docs(request):
    """Swagger UI on the generated schema; its files come from this server (CSP: self)."""
    return render(request, "api/docs.html")
