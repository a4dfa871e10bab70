from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from schools import selectors
from schools.models import District, Membership
from schools.scoping import require_district_admin, scoped_object

from . import services, tasks
from .forms import InviteForm, LoginForm


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


@scoped_object(District)
def members(request, district):
    require_district_admin(request.access, district)
    return render(
        request,
        "accounts/members.html",
        {"district": district, "memberships": selectors.district_members(district)},
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


@scoped_object(_memberships, methods=["POST"])
def membership_resend(request, membership):
    require_district_admin(request.access, membership.district)
    tasks.send_invitation.delay_on_commit(membership.pk)
    messages.success(request, f"The invitation to {membership.user.email} was sent again.")
    return redirect("accounts:members", pk=membership.district_id)
