from django import forms
from django.core.exceptions import ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from core.outbound import fetch_public
from schools.forms import CrispyFormMixin, Form, ModelForm

from .models import DOMAIN, Provider, SignInSettings, domain_list

GOOGLE_ISSUER = "https://accounts.google.com"


class SignInSettingsForm(ModelForm):
    submit_label = "Save sign-in settings"

    class Meta:
        model = SignInSettings
        fields = ["allowed_domains", "passwords_allowed", "accept_provider_mfa", "mfa_contexts"]
        widgets = {
            "allowed_domains": forms.Textarea(attrs={"rows": 3}),
            "mfa_contexts": forms.Textarea(attrs={"rows": 4}),
        }

    def clean_allowed_domains(self):
        domains = domain_list(self.cleaned_data["allowed_domains"])
        for domain in domains:
            try:
                DOMAIN(domain)
            except forms.ValidationError:
                raise forms.ValidationError(
                    f"“{domain}” is not a domain. Write one such as riverbend.k12.us."
                ) from None
        return "\n".join(domains)


class ProviderForm(ModelForm):
    """A provider's settings. The client secret is write-only: never put back in the page."""

    submit_label = "Save provider"

    secret = forms.CharField(
        label="Client secret",
        required=False,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the saved one.",
    )

    class Meta:
        model = Provider
        fields = [
            "kind",
            "name",
            "enabled",
            "server_url",
            "client_id",
            "metadata_url",
            "metadata_xml",
            "email_attribute",
            "trust_email",
        ]
        widgets = {"metadata_xml": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.district = district
        if self.instance.pk:
            self.fields["kind"].disabled = True
        if self.instance.has_secret:
            self.fields[
                "secret"
            ].help_text = "A secret is saved (not shown). Type a new one only to replace it."
        order = [*self._meta.fields[:5], "secret", *self._meta.fields[5:]]
        self.order_fields(order)

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or self.instance.kind
        if kind == Provider.Kind.GOOGLE and not data.get("server_url"):
            data["server_url"] = GOOGLE_ISSUER
            self.instance.server_url = GOOGLE_ISSUER
        if kind == Provider.Kind.SAML:
            self._read_metadata(data)
        return data

    def _read_metadata(self, data):
        """Parse the IdP's metadata (pasted XML, or fetched from its URL) into the row."""
        xml, url = data.get("metadata_xml"), data.get("metadata_url")
        try:
            if xml:
                parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml)
            elif url:
                parsed = OneLogin_Saml2_IdPMetadataParser.parse(fetch_public(url))
            else:
                self.add_error("metadata_url", "Give the IdP's metadata URL or paste its XML.")
                return
        except ValidationError as refused:
            self.add_error("metadata_xml" if xml else "metadata_url", refused)
            return
        except Exception:  # noqa: BLE001 - any unreadable metadata is the person's to fix
            field = "metadata_xml" if xml else "metadata_url"
            self.add_error(field, "This metadata could not be read as SAML IdP metadata.")
            return
        idp = parsed.get("idp") or {}
        self.instance.idp_entity_id = idp.get("entityId", "")
        self.instance.idp_sso_url = (idp.get("singleSignOnService") or {}).get("url", "")
        certs = idp.get("x509cert") or (idp.get("x509certMulti") or {}).get("signing", [""])[0]
        self.instance.idp_x509cert = certs or ""
        if not (self.instance.idp_entity_id and self.instance.idp_sso_url):
            field = "metadata_xml" if xml else "metadata_url"
            self.add_error(field, "The metadata names no entity ID or sign-in URL.")


class StartForm(CrispyFormMixin, Form):
    submit_label = "Continue"

    email = forms.EmailField(
        label="Your district e-mail address",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
