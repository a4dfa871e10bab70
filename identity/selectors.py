"""Reads of the identity app: which providers sign whom in, at a constant query count."""

from __future__ import annotations

from urllib.parse import urlsplit

from schools.models import District
from schools.scoping import outside_scope

from .models import Provider, SignInSettings, domain_list


def providers_of(district: District) -> list[Provider]:
    """The district's providers, for its settings page (read in the admin's scope)."""
    return list(Provider.objects.filter(district=district).order_by("name"))


def enabled_providers(district_ids) -> list[Provider]:
    """Enabled providers of these districts (sign-in runs before any scope exists)."""
    with outside_scope():
        return list(
            Provider.objects.filter(district_id__in=list(district_ids), enabled=True).order_by(
                "name"
            )
        )


def providers_for_email(email: str) -> list[Provider]:
    """The enabled providers of every district that lists the address's domain.

    One query: domains are few per district, so the candidates are read by a text match
    and confirmed in Python against the parsed list.
    """
    domain = (email or "").rpartition("@")[2].strip().lower()
    if not domain:
        return []
    with outside_scope():
        candidates = SignInSettings.objects.filter(allowed_domains__icontains=domain).values_list(
            "district_id", "allowed_domains"
        )
        ids = [d for d, text in candidates if domain in domain_list(text)]
        if not ids:
            return []
        return list(
            Provider.objects.filter(district_id__in=ids, enabled=True).order_by("district", "name")
        )


def ways_to_sign_in(district: District, user) -> dict:
    """What an invitation says: the district's providers and whether a password works."""
    with outside_scope():
        settings = SignInSettings.objects.filter(district=district).first()
    providers = enabled_providers([district.pk])
    if settings and not settings.allows_email(user.email):
        providers = []
    return {
        "providers": providers,
        "password": settings is None or settings.passwords_allowed,
    }


def passwords_refused(user) -> bool:
    """Whether a district of the user turned password sign-in off (superusers keep theirs)."""
    if user.is_superuser:
        return False
    with outside_scope():
        return SignInSettings.objects.filter(
            district__memberships__user=user, passwords_allowed=False
        ).exists()


def sign_in_origins(providers) -> list[str]:
    """Where a sign-in form's redirect leads: each provider's sign-in origin.

    The site's CSP limits form-action to itself, and browsers hold the redirects after a
    form is sent to it too; a page that starts a sign-in adds these (identity.views).
    """
    origins = []
    for provider in providers:
        url = provider.idp_sso_url if provider.is_saml else provider.server_url
        parts = urlsplit(url or "")
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return sorted(set(origins))
