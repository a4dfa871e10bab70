"""Optional TOTP two-factor sign-in, and the district rule that requires it.

django-otp keeps the devices: one TOTP device (an authenticator app) and one static device
holding ten single-use recovery codes. `django_otp.login` marks the session as verified;
`accounts.middleware.TwoFactorMiddleware` sends a signed-in user who has not yet proved
their second factor (or must set one up) to these pages before any other.
"""

from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools.models import District, Membership
from schools.scoping import outside_scope

from .models import User
from .permissions import can_see_student_records

RECOVERY_CODES = 10


def is_required(user: User) -> bool:
    """Whether a district of the user requires a second factor of someone like them.

    A superuser sees every district's records, so any district's requirement covers them.
    """
    with outside_scope():
        if user.is_superuser:
            return District.objects.filter(require_two_factor=True).exists()
        return Membership.objects.filter(
            user=user, role__in=can_see_student_records.roles, district__require_two_factor=True
        ).exists()


def has_device(user: User) -> bool:
    return user_has_device(user, confirmed=True)


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being set up (one per user, kept across reloads)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def confirm_totp_device(*, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with a code it shows; answer fresh recovery codes.

    None when the code is wrong (nothing is written then).
    """
    if not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=device.user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(device.user)


@transaction.atomic
def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; the old ones stop working."""
    # django-otp's devices have no unique (user, name): lock the account's row first, so two
    # requests at once cannot each create a set of codes (one of them never shown).
    User.objects.select_for_update().filter(pk=user.pk).first()
    static, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
    return codes


def verify(user: User, token: str):
    """The device that accepts ``token`` (authenticator code or recovery code), or None.

    Each device throttles after a failure (django-otp doubles the wait each time), so
    guessing six digits is not practical. The devices are read locked (``for_verify``), in
    a transaction of their own: two requests at once cannot both spend one recovery code or
    one authenticator code, and a failure's throttle count is committed with the answer.
    """
    token = (token or "").replace(" ", "").strip()
    if not token:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_is_allowed()[0] and device.verify_token(token):
                return device
    return None


def remaining_recovery_codes(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def turn_off(user: User) -> None:
    for device in devices_for_user(user, confirmed=None):
        device.delete()
