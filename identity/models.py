"""Each district's sign-in settings and the identity providers it trusts.

django-allauth does the protocols (OpenID Connect, SAML 2.0); its apps are built per request
from these rows (identity.adapter), so every district keeps its own providers and the
client secret stays encrypted here (core.sealing) instead of in allauth's SocialApp.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from core.outbound import public_url
from core.sealing import SecretUnreadable, seal, unseal
from schools.models import District
from schools.scoping import DISTRICT, ScopedManager

DOMAIN = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    "Write a domain such as riverbend.k12.us (no @, no spaces).",
)

# What providers commonly send for a sign-in that used more than one factor: OIDC `amr`
# values (RFC 8176) and SAML AuthnContextClassRef values (ADFS, Entra ID, Okta, the
# REFEDS MFA profile). A district may add its own `acr` or class values.
MFA_AMR = frozenset({"mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "iris", "sc"})
DEFAULT_MFA_CONTEXTS = (
    "https://refeds.org/profile/mfa",
    "http://schemas.microsoft.com/claims/multipleauthn",
    "http://schemas.microsoft.com/ws/2012/12/authmethod/phoneappnotification",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
)


class SignInSettings(models.Model):
    """How the people of one district sign in."""

    district = models.OneToOneField(District, on_delete=models.CASCADE, related_name="sign_in")
    allowed_domains = models.TextField(
        "allowed e-mail domains",
        blank=True,
        help_text="One per line, e.g. riverbend.k12.us. A provider's sign-in is accepted "
        "only for an address in one of these domains.",
    )
    passwords_allowed = models.BooleanField(
        "people may also sign in with a Pillarwise password",
        default=True,
        help_text="Turn off once everyone signs in through the district's provider. Site "
        "superusers keep their password.",
    )
    accept_provider_mfa = models.BooleanField(
        "accept the provider's multi-factor sign-in as the second factor",
        default=False,
        help_text="When the provider says it checked a second factor (OpenID Connect amr "
        "or acr, SAML AuthnContext), Pillarwise does not ask for its own code.",
    )
    mfa_contexts = models.TextField(
        "values that mean multi-factor",
        blank=True,
        default="\n".join(DEFAULT_MFA_CONTEXTS),
        help_text="OpenID Connect acr values and SAML AuthnContextClassRef values, one per "
        "line. The amr values mfa, otp, hwk, swk, sms and fpt always count.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("district", dimension=DISTRICT)

    def __str__(self) -> str:
        return f"Sign-in of {self.district}"

    def domains(self) -> list[str]:
        return domain_list(self.allowed_domains)

    def allows_email(self, email: str) -> bool:
        domain = (email or "").rpartition("@")[2].strip().lower()
        return bool(domain) and domain in self.domains()

    def mfa_values(self) -> set[str]:
        return {v.strip() for v in self.mfa_contexts.splitlines() if v.strip()}

    def clean(self):
        for domain in self.domains():
            DOMAIN(domain)


def domain_list(text: str) -> list[str]:
    parts = (text or "").replace(",", "\n").split()
    return sorted({p.strip().lower().lstrip("@") for p in parts if p.strip()})


class Provider(models.Model):
    """One identity provider a district trusts (its `key` is allauth's provider id)."""

    class Kind(models.TextChoices):
        GOOGLE = "google", "Google Workspace"
        ENTRA = "entra", "Microsoft Entra ID"
        OIDC = "oidc", "Another OpenID Connect provider"
        SAML = "saml", "SAML (ClassLink, Clever, ADFS, Okta…)"

    OIDC_KINDS = (Kind.GOOGLE, Kind.ENTRA, Kind.OIDC)

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="providers")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(
        "button label", max_length=60, help_text="Shown on the sign-in button: “Sign in with …”."
    )
    key = models.SlugField(max_length=60, unique=True, editable=False)
    enabled = models.BooleanField(default=True)
    # OpenID Connect
    server_url = models.URLField(
        "issuer or discovery URL",
        blank=True,
        max_length=300,
        validators=[public_url],
        help_text="Google: https://accounts.google.com (filled in if left empty). Entra ID: "
        "the “OpenID Connect metadata document” address under Endpoints of the app "
        "registration. Another provider: its issuer or discovery URL.",
    )
    client_id = models.CharField("client ID", max_length=300, blank=True)
    sealed_secret = models.TextField(blank=True, editable=False)
    # SAML 2.0
    metadata_url = models.URLField(
        "IdP metadata URL", blank=True, max_length=500, validators=[public_url]
    )
    metadata_xml = models.TextField("IdP metadata XML", blank=True)
    idp_entity_id = models.CharField("IdP entity ID", max_length=500, blank=True)
    idp_sso_url = models.URLField("IdP sign-in URL", max_length=500, blank=True)
    idp_x509cert = models.TextField("IdP signing certificate", blank=True)
    email_attribute = models.CharField(
        "e-mail attribute",
        max_length=200,
        blank=True,
        help_text="The SAML attribute holding the address; empty: the usual names "
        "(mail, emailaddress claim) or an e-mail NameID.",
    )
    trust_email = models.BooleanField(
        "the provider vouches for addresses in the allowed domains",
        default=True,
        help_text="On for a district's own Workspace, tenant or IdP, which issues those "
        "addresses. Off: only an address the provider marks as verified is accepted.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["district", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_saml(self) -> bool:
        return self.kind == self.Kind.SAML

    @property
    def has_secret(self) -> bool:
        return bool(self.sealed_secret)

    def login_url(self) -> str:
        """allauth's URL that starts a sign-in with this provider (POST to it)."""
        if self.is_saml:
            return reverse("saml_login", kwargs={"organization_slug": self.key})
        return reverse("openid_connect_login", kwargs={"provider_id": self.key})

    def district_settings(self) -> SignInSettings:
        """The district's settings, read with the provider when it was selected with
        ``district__sign_in`` (defaults, unsaved, when the district never set them)."""
        try:
            return self.district.sign_in
        except SignInSettings.DoesNotExist:
            return SignInSettings(district=self.district)

    def secret(self) -> str | None:
        """The client secret; None when the site's keys no longer open it."""
        try:
            return unseal(self.sealed_secret, purpose=SECRET_PURPOSE)
        except SecretUnreadable:
            return None

    def set_secret(self, plain: str) -> None:
        self.sealed_secret = seal(plain, purpose=SECRET_PURPOSE)

    def clean(self):
        errors = {}
        if self.is_saml:
            field = "metadata_xml" if self.metadata_xml else "metadata_url"
            if not (self.idp_entity_id and self.idp_sso_url):
                errors[field] = "Give the IdP's metadata URL or paste its metadata XML."
            elif not self.idp_x509cert:
                errors[field] = "The metadata names no signing certificate."
        else:
            if not self.server_url:
                errors["server_url"] = "Give the provider's issuer or discovery URL."
            if not self.client_id:
                errors["client_id"] = "Give the client ID the provider issued."
        if errors:
            raise ValidationError(errors)


SECRET_PURPOSE = "pillarwise.identity.client-secret"  # noqa: S105 - a key-derivation label


class UsedAssertion(models.Model):
    """SAML assertions already spent, kept until they expire: a replay is refused."""

    assertion_id = models.CharField(max_length=200, unique=True)
    not_after = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.assertion_id
