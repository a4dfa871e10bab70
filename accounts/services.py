"""Accounts: invitations instead of sign-up."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit import queue
from schools.models import District, Membership, Role, School
from schools.scoping import scopes_disabled
from schools.web import absolute_url

from .models import User, UserSession


def set_password_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password_reset_confirm", args=[uid, token])
    return absolute_url(path)


@transaction.atomic
def invite_user(
    *,
    district: District,
    email: str,
    full_name: str,
    role: str,
    school: School | None,
    invited_by: User,
) -> Membership:
    """Give a person a role (creating their account if new) and e-mail them a link."""
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, full_name=full_name.strip())
    membership = Membership(
        user=user, district=district, school=school, role=role, invited_by=invited_by
    )
    membership.full_clean()  # role/school rules and "already holds this role"
    membership.save()

    from .tasks import send_invitation

    queue.enqueue(send_invitation, membership.pk)
    return membership


def send_invitation_email(*, membership: Membership) -> None:
    user = membership.user
    context = {
        "membership": membership,
        "user": user,
        "needs_password": not user.has_usable_password(),
        "set_password_url": set_password_url(user),
        "login_url": absolute_url(reverse("accounts:login")),
    }
    send_mail(
        subject=f"You have been invited to Pillarwise as {membership.get_role_display()}",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    if membership.user_id == by.pk and membership.role == Role.DISTRICT_ADMIN:
        raise ValidationError("You cannot remove your own district admin role.")
    membership.delete()


@transaction.atomic
def set_active(*, membership: Membership, active: bool, by: User) -> User:
    """Switch a person's account off (or on again) from their district's members page.

    Switching off ends every open session at once (accounts.signals). A district admin may
    only switch off someone whose every role is in this district: an account shared with
    another district, a superuser, or the admin's own account is refused.
    """
    user = membership.user
    if not active:
        if user.pk == by.pk:
            raise ValidationError("You cannot switch off your own account.")
        if user.is_superuser:
            raise ValidationError("A site superuser's account is managed in the admin.")
        with scopes_disabled():
            elsewhere = (
                Membership.objects.filter(user=user)
                .exclude(district_id=membership.district_id)
                .exists()
            )
        if elsewhere:
            raise ValidationError(
                "This person also holds a role in another district, so only a site "
                "superuser can switch the account off. Remove their roles here instead."
            )
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user


def end_sessions(user_id: int) -> int:
    """End every open session of a user; answers how many were ended.

    The UserSession index names the keys, so no scan of the session table is needed; each is
    deleted through the configured session engine (database or cache alike).
    """
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user_id=user_id).delete()
    return len(keys)
