from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from core.queue import enqueue
from schools.models import District, Membership
from schools.scoping import require_district_admin, scoped_object

from . import middleware, selectors, services, tasks, two_factor
from .forms import InviteForm, LoginForm, TokenForm


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


@scoped_object(District)
def members(request, district):
    require_district_admin(request.access, district)
    return render(
        request,
        "accounts/members.html",
        {
            "district": district,
            "memberships": selectors.district_members(
                district, by=request.user, access=request.access
            ),
        },
    )


@scoped_object(District, methods=["GET", "POST"])
def invite(request, district):
    require_district_admin(request.access, district)
    form = InviteForm(request.POST or None, district=district)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.invite_user(
                district=district, invited_by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"An invitation was sent to {membership.user.email}.")
            if not membership.user.is_active:
                messages.warning(
                    request,
                    f"The account of {membership.user.email} is switched off, and an "
                    "invitation does not switch it on.",
                )
            return redirect("accounts:members", pk=district.pk)
    return render(request, "accounts/invite.html", {"form": form, "district": district})


def _memberships():
    return Membership.objects.select_related("user", "district")


@scoped_object(_memberships, methods=["POST"])
def membership_remove(request, membership):
    require_district_admin(request.access, membership.district)
    try:
        services.membership_remove(membership=membership, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{membership.user} no longer holds that role.")
    return redirect("accounts:members", pk=membership.district_id)


def _set_active(request, membership, *, active: bool):
    require_district_admin(request.access, membership.district)
    try:
        services.set_active(membership=membership, active=active, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        done = "can sign in again" if active else "is switched off and signed out everywhere"
        messages.success(request, f"{membership.user} {done}.")
    return redirect("accounts:members", pk=membership.district_id)


@scoped_object(_memberships, methods=["POST"])
def user_deactivate(request, membership):
    return _set_active(request, membership, active=False)


@scoped_object(_memberships, methods=["POST"])
def user_reactivate(request, membership):
    return _set_active(request, membership, active=True)


@scoped_object(_memberships, methods=["POST"])
def membership_resend(request, membership):
    require_district_admin(request.access, membership.district)
    enqueue(tasks.send_invitation, membership.pk)
    messages.success(request, f"The invitation to {membership.user.email} was sent again.")
    return redirect("accounts:members", pk=membership.district_id)


def _next_url(request, default="today:home"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _show_codes(request, codes):
    request.session["pw_recovery_codes"] = codes
    return redirect("accounts:two_factor")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_page(request):
    """The person's own two-factor page: status, new recovery codes, turning it off."""
    user = request.user
    required = two_factor.is_required(user)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "codes" and two_factor.has_device(user):
            return _show_codes(request, two_factor.new_recovery_codes(user))
        if action == "off" and not required:
            two_factor.turn_off(user)
            middleware.refresh(request.session, user)
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("accounts:two_factor")
        messages.error(request, "That change is not possible.")
        return redirect("accounts:two_factor")
    return render(
        request,
        "accounts/two_factor/status.html",
        {
            "enabled": two_factor.has_device(user),
            "required": required,
            "codes": request.session.pop("pw_recovery_codes", None),
            "remaining": two_factor.remaining_recovery_codes(user),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Add an authenticator app: scan the code, type what it shows, keep the recovery codes."""
    user = request.user
    if two_factor.has_device(user) and not user.is_verified():
        return redirect("accounts:two_factor_verify")
    device = two_factor.pending_totp_device(user)
    form = TokenForm(
        request.POST or None,
        check=lambda token: two_factor.confirm_totp_device(device=device, token=token),
        error="That code does not match. Check that your phone's clock is right, wait a moment, "
        "then type the newest code.",
    )
    if request.method == "POST" and form.is_valid():
        otp_login(request, device)
        middleware.refresh(request.session, user)
        messages.success(request, "Two-factor sign-in is on.")
        return _show_codes(request, form.result)
    qr = segno.make_qr(device.config_url, error="m")
    return render(
        request,
        "accounts/two_factor/setup.html",
        {
            "form": form,
            "qr": qr.svg_data_uri(scale=5, dark="#000"),
            "secret": _grouped(b32encode(device.bin_key).decode()),
            "required": two_factor.is_required(user),
            "next": _next_url(request, ""),
        },
        status=400 if form.is_bound else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """Second step of signing in: a code from the authenticator app or a recovery code."""
    user = request.user
    if not two_factor.has_device(user):
        return render(request, "accounts/two_factor/verify.html", {"no_device": True})
    form = TokenForm(
        request.POST or None,
        check=lambda token: two_factor.verify(user, token),
        error="That code is not valid, or came too soon after a wrong one. Wait a moment, then "
        "type the newest code or one of your recovery codes.",
    )
    if request.method == "POST" and form.is_valid():
        otp_login(request, form.result)
        middleware.refresh(request.session, user)
        return redirect(_next_url(request))
    return render(
        request,
        "accounts/two_factor/verify.html",
        {"form": form, "next": _next_url(request, "")},
        status=400 if form.is_bound else 200,
    )
