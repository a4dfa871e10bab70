"""django-allauth, fitted to Pillarwise: per-district apps, no sign-up, invited accounts only.

``SOCIALACCOUNT_ADAPTER`` builds allauth's apps per request from identity.Provider rows
(the client secret is unsealed only here, in memory), and ``pre_social_login`` hands the
decision to identity.services.admit. ``ACCOUNT_ADAPTER`` closes sign-up: allauth's own
account pages are not mounted; Pillarwise's accounts app keeps password sign-in.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from axes.handlers.proxy import AxesProxyHandler
from django.db import transaction
from django.shortcuts import render

from core.outbound import public_session
from schools.scoping import outside_scope

from . import mfa, services
from .models import Provider

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# The attributes SAML providers commonly carry the address in, after a district's own.
SAML_EMAIL_ATTRIBUTES = [
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "mail",
    "email",
    "Email",
]


def social_app(provider: Provider) -> SocialApp:
    """allauth's app for one provider, never saved (allauth's SocialApp table stays empty)."""
    domains = provider.district_settings().domains()
    common = {"verified_email": domains if provider.trust_email else False}
    if provider.is_saml:
        # Read from the metadata when the provider was saved (identity.forms), so a sign-in
        # never waits on the IdP's metadata URL; saving again picks up a new certificate.
        idp = {
            "entity_id": provider.idp_entity_id,
            "sso_url": provider.idp_sso_url,
            "x509cert": provider.idp_x509cert,
        }
        mapping = _saml_mapping(provider)
        return SocialApp(
            provider="saml",
            provider_id=provider.key,
            client_id=provider.key,
            name=provider.name,
            settings={
                **common,
                "idp": idp,
                "attribute_mapping": mapping,
                "advanced": {
                    "strict": True,
                    "want_assertion_signed": True,
                    "reject_idp_initiated_sso": True,
                    # Our own URLs are checked too: allow a host such as "localhost".
                    "allow_single_label_domains": True,
                },
            },
        )
    return SocialApp(
        provider="openid_connect",
        provider_id=provider.key,
        client_id=provider.client_id,
        secret=provider.secret() or "",
        name=provider.name,
        settings={**common, "server_url": provider.server_url},
    )


def _saml_mapping(provider: Provider) -> dict:
    emails = [provider.email_attribute, *SAML_EMAIL_ATTRIBUTES] if provider.email_attribute else []
    from allauth.socialaccount.providers.saml.provider import SAMLProvider

    mapping = {k: list(v) for k, v in SAMLProvider.default_attribute_mapping.items()}
    mapping["email"] = emails or SAML_EMAIL_ATTRIBUTES
    return mapping


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_requests_session(self):
        """Every call allauth makes for a sign-in (OIDC discovery, token, user info, the
        signing keys) goes to public addresses only: the issuer is checked when saved, but
        its discovery document names the other endpoints, and could name an inward one."""
        from allauth.socialaccount import app_settings

        return public_session(timeout=app_settings.REQUESTS_TIMEOUT)

    def list_apps(self, request, provider=None, client_id=None):
        with outside_scope():
            rows = Provider.objects.select_related("district__sign_in").filter(enabled=True)
            if provider and provider not in ("saml", "openid_connect"):
                rows = rows.filter(key=provider)
            elif provider == "saml":
                rows = rows.filter(kind=Provider.Kind.SAML)
            elif provider == "openid_connect":
                rows = rows.exclude(kind=Provider.Kind.SAML)
            if client_id:
                rows = (
                    rows.filter(key=client_id)
                    if provider == "saml"
                    else rows.filter(client_id=client_id)
                )
            return [social_app(p) for p in rows]

    def is_open_for_signup(self, request, sociallogin):
        return False

    def pre_social_login(self, request, sociallogin):
        def is_locked(email):
            return AxesProxyHandler.is_locked(request, {"username": email})

        try:
            admitted = services.admit(sociallogin=sociallogin, is_locked=is_locked)
        except services.SignInRefused as refusal:
            if refusal.reason == "locked_out":
                from axes.helpers import get_lockout_response

                raise ImmediateHttpResponse(
                    get_lockout_response(request, None, {"username": refusal.email})
                ) from None
            raise ImmediateHttpResponse(
                render(
                    request,
                    "identity/refused.html",
                    {"refusal": refusal, "provider": refusal.provider},
                    status=403,
                )
            ) from None
        user = admitted.user
        setattr(
            user,
            mfa.USER_ATTRIBUTE,
            {
                "district": admitted.provider.district_id,
                "provider": admitted.provider.key,
                "mfa": admitted.mfa,
            },
        )
        if not sociallogin.is_existing:
            with transaction.atomic():
                sociallogin.connect(request, user)
        sociallogin.user = user

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        services.note_protocol_error(provider_key=getattr(provider, "sub_id", ""), error=error)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False

    def login(self, request, user):
        # django-axes' backend comes first in AUTHENTICATION_BACKENDS and cannot load a
        # user; the session must name the model backend.
        user.backend = MODEL_BACKEND
        return super().login(request, user)
