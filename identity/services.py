"""Writes of the identity app: district settings, providers, and admitting an SSO sign-in.

Nobody signs themselves up. ``admit`` lets a provider's sign-in through only to an account
that the district invited (a role in the district), matched on a verified address in the
district's allowed domains; every refusal is an audit event and a page that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from core.auditlog import Kind, record
from schools.models import District, Membership
from schools.scoping import outside_scope

from . import mfa
from .models import Provider, SignInSettings, UsedAssertion

# Why a sign-in was refused: the code goes to the audit log, the text to the person.
REFUSALS = {
    "no_email": "Your provider did not tell Pillarwise your e-mail address.",
    "unverified": "Your provider did not confirm that the e-mail address is yours.",
    "domain": "Your e-mail address is not in a domain this district signs in with.",
    "unknown": "There is no Pillarwise account for your e-mail address in this district.",
    "switched_off": "Your Pillarwise account is switched off.",
    "replayed": "This sign-in answer was already used once.",
    "provider_off": "This way of signing in is switched off.",
    "locked_out": "Signing in to this account is paused after too many failed attempts.",
}


class SignInRefused(Exception):
    def __init__(self, reason: str, *, provider: Provider | None, email: str = "", user=None):
        super().__init__(reason)
        self.reason = reason
        self.provider = provider
        self.email = email
        self.user = user

    @property
    def message(self) -> str:
        return REFUSALS[self.reason]


@dataclass(frozen=True)
class Admitted:
    user: object
    provider: Provider
    email: str
    mfa: bool


def ensure_settings(district: District) -> SignInSettings:
    """The district's settings row, created with the defaults on first use (the admin's page).

    Settled by the unique district column, so two first visits at once make one row.
    """
    with outside_scope():
        settings, _ = SignInSettings.objects.get_or_create(district=district)
    return settings


@transaction.atomic
def save_settings(*, settings: SignInSettings, by) -> SignInSettings:
    settings.full_clean()
    settings.save()
    record(Kind.SIGN_IN_SETTINGS, user=by, district=settings.district_id, obj=settings)
    return settings


def _new_key(district: District, kind: str) -> str:
    base = slugify(f"{district.slug or district.pk}-{kind}")[:50] or f"d{district.pk}"
    key, n = base, 1
    while Provider.unscoped.filter(key=key).exists():
        n += 1
        key = f"{base}-{n}"
    return key


@transaction.atomic
def save_provider(*, provider: Provider, secret: str | None, by) -> Provider:
    """Create or change a provider; ``secret`` None keeps the stored one (write-only field)."""
    if secret:
        provider.set_secret(secret)
    if not provider.key:
        provider.key = _new_key(provider.district, provider.kind)
    provider.full_clean()
    if not provider.is_saml and not provider.has_secret:
        raise ValidationError({"secret": "Give the client secret the provider issued."})
    provider.save()
    record(Kind.SIGN_IN_SETTINGS, user=by, district=provider.district_id, obj=provider)
    return provider


@transaction.atomic
def delete_provider(*, provider: Provider, by) -> None:
    from allauth.socialaccount.models import SocialAccount

    record(Kind.SIGN_IN_SETTINGS, user=by, district=provider.district_id, obj=provider)
    SocialAccount.objects.filter(provider=provider.key).delete()
    provider.delete()


def _refuse(reason, *, provider, email="", user=None):
    record(
        Kind.SSO_REFUSED,
        user=user,
        district=provider.district_id if provider else None,
        object_type="identity.provider",
        object_id=provider.pk if provider else "",
        detail=f"{provider.key if provider else '-'}: {reason}",
        subject=email,
    )
    return SignInRefused(reason, provider=provider, email=email, user=user)


def _chosen_address(sociallogin, settings: SignInSettings) -> tuple[str, bool]:
    """The provider's address in an allowed domain (verified ones first), and its flag."""
    addresses = sorted(
        sociallogin.email_addresses, key=lambda a: (not a.verified, not a.primary, a.email)
    )
    for address in addresses:
        if settings.allows_email(address.email):
            return address.email.strip().lower(), bool(address.verified)
    if addresses:
        return addresses[0].email.strip().lower(), bool(addresses[0].verified)
    return "", False


def spend_assertion(evidence: dict) -> bool:
    """Record a SAML assertion as used; False if it was used before (a replay)."""
    assertion_id = evidence.get("assertion_id")
    if not assertion_id:
        return True
    stamp = evidence.get("not_on_or_after")
    not_after = (
        datetime.fromtimestamp(stamp, tz=UTC)
        if stamp
        else timezone.now() + timezone.timedelta(days=1)
    )
    UsedAssertion.objects.filter(not_after__lt=timezone.now()).delete()
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(assertion_id=assertion_id[:200], not_after=not_after)
    except IntegrityError:
        return False
    return True


def admit(*, sociallogin, is_locked=lambda email: False) -> Admitted:
    """Decide whether a provider's sign-in opens an invited account; links it the first time.

    Raises SignInRefused (already audited). ``is_locked(email)`` answers whether the
    account's sign-in is paused (django-axes), which holds for every way of signing in.
    """
    key = sociallogin.account.provider
    with outside_scope():
        provider = Provider.objects.select_related("district__sign_in").filter(key=key).first()
    if provider is None or not provider.enabled:
        raise _refuse("provider_off", provider=provider)
    settings = provider.district_settings()
    evidence = sociallogin.account.extra_data.get("pillarwise") or {}
    if provider.is_saml and not spend_assertion(evidence):
        raise _refuse("replayed", provider=provider)
    email, verified = _chosen_address(sociallogin, settings)
    linked = sociallogin.user if sociallogin.is_existing else None
    if not email and linked is None:
        raise _refuse("no_email", provider=provider)
    if linked is None:
        if not settings.allows_email(email):
            raise _refuse("domain", provider=provider, email=email)
        if not verified:
            raise _refuse("unverified", provider=provider, email=email)
        user = get_user_model().objects.filter(email__iexact=email).first()
    else:
        user = linked
        email = user.email
    with outside_scope():
        member = (
            user is not None
            and Membership.objects.filter(user=user, district=provider.district).exists()
        )
    if not member:
        raise _refuse("unknown", provider=provider, email=email)
    if not user.is_active:
        raise _refuse("switched_off", provider=provider, email=email, user=user)
    if is_locked(user.email):
        raise _refuse("locked_out", provider=provider, email=email, user=user)
    return Admitted(
        user=user,
        provider=provider,
        email=email,
        mfa=mfa.claimed(extra_data=sociallogin.account.extra_data, settings=settings),
    )


def note_protocol_error(*, provider_key: str, error) -> None:
    """A provider's answer that allauth refused (signature, audience, expiry, state)."""
    with outside_scope():
        provider = Provider.objects.filter(key=provider_key).first()
    record(
        Kind.SSO_REFUSED,
        district=provider.district_id if provider else None,
        object_type="identity.provider",
        object_id=provider.pk if provider else "",
        detail=f"{provider_key or '-'}: {error or 'protocol error'}",
    )
