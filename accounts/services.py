"""Accounts: invitations instead of sign-up."""

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core import queue
from identity.selectors import passwords_refused, ways_to_sign_in
from schools.models import District, Membership, Role, School
from schools.scoping import Access, access_for
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
    """Give a person a role (creating their account if new) and e-mail them a link.

    An existing account is left exactly as it is (switched on or off, its password, name and
    rights): the invitation adds a role and nothing else.
    """
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
    ways = ways_to_sign_in(membership.district, user)
    context = {
        "membership": membership,
        "user": user,
        "switched_off": not user.is_active,
        # The district's providers, which open the account straight away.
        "providers": ways["providers"],
        "provider_names": [p.name for p in ways["providers"]],
        "sso_url": absolute_url(reverse("identity:start")),
        # A switched-off account gets no password link: it could not sign in with it, and
        # Django's own reset form skips such accounts too; nor does a district that signs
        # in through its provider only.
        "needs_password": user.is_active and ways["password"] and not user.has_usable_password(),
        "password": ways["password"],
        "set_password_url": set_password_url(user),
        "login_url": absolute_url(reverse("accounts:login")),
    }
    send_mail(
        subject=f"You have been invited to Pillarwise as {membership.get_role_display()}",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def send_password_reset_email(*, email: str) -> int:
    """Send the set-password link to each account that may reset with ``email`` (Django's
    rule: active, with a password); answers how many were sent, 0 for an unknown address.

    Someone whose district turned passwords off gets no link (a password would not let them
    in): the mail says to sign in with the district's account instead."""
    sent = 0
    for user in PasswordResetForm().get_users(email):
        if passwords_refused(user):
            template = "registration/password_reset_district_sign_in.txt"
            context = {"email": user.email, "sign_in_url": absolute_url(reverse("identity:start"))}
        else:
            template = "registration/password_reset_email.txt"
            context = {"email": user.email, "set_password_url": set_password_url(user)}
        send_mail(
            subject=render_to_string("registration/password_reset_subject.txt").strip(),
            message=render_to_string(template, context),
            from_email=None,
            recipient_list=[user.email],
        )
        sent += 1
    return sent


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    if membership.user_id == by.pk and membership.role == Role.DISTRICT_ADMIN:
        raise ValidationError("You cannot remove your own district admin role.")
    membership.delete()


def roles_elsewhere(user: User, district: District) -> bool:
    """Whether ``user`` holds a role in a district other than ``district`` (any scope)."""
    return Membership.unscoped.filter(user=user).exclude(district=district).exists()


def account_switch_refusal(
    *,
    user: User,
    by: User,
    district: District | None,
    active: bool,
    access: Access | None = None,
    elsewhere: bool | None = None,
) -> str | None:
    """Why ``by`` may not switch ``user``'s account on (``active``) or off, or None if they may.

    The one rule for both directions and every path (a district's members page, the Django
    admin): nobody switches their own account; a site superuser may switch any other; a
    district admin only an account that is not a superuser's and whose every role is in
    their district, and switches one on again only if their district switched it off. An
    invitation therefore never revives an account switched off elsewhere. ``access`` and
    ``elsewhere`` may be given when the caller already knows them (a list of members).
    """
    if user.pk == by.pk:
        return "You cannot switch your own account on or off."
    if by.is_superuser:
        return None
    if user.is_superuser:
        return "A site superuser's account is managed in the admin."
    access = access or access_for(by)
    if district is None or not by.is_active or not access.is_district_admin(district):
        return "Only a district admin of the person's district may switch an account on or off."
    if elsewhere is None:
        elsewhere = roles_elsewhere(user, district)
    if elsewhere:
        return (
            "This person also holds a role in another district, so only a site superuser "
            "can switch the account on or off. Remove their roles here instead."
        )
    if active and not user.is_active and user.switched_off_in_id != district.pk:
        return (
            "This account was not switched off by your district, so only a site superuser "
            "can switch it on."
        )
    return None


@transaction.atomic
def set_active(*, membership: Membership, active: bool, by: User) -> User:
    """Switch a person's account off (or on again) from their district's members page.

    Held to ``account_switch_refusal``. Switching off ends every open session at once
    (accounts.signals) and keeps the person's records and roles.
    """
    user = membership.user
    refusal = account_switch_refusal(user=user, by=by, district=membership.district, active=active)
    if refusal:
        raise ValidationError(refusal)
    user.is_active = active
    user.switched_off_in = None if active else membership.district
    user.save(update_fields=["is_active", "switched_off_in"])
    return user


@transaction.atomic
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
