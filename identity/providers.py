"""allauth's SAML provider, keeping what Pillarwise checks after the signature.

python3-saml verifies the response (signature, audience, time window, destination); this
subclass also keeps the assertion's id and expiry (so a replay is refused:
identity.services.spend_assertion) and the AuthnContextClassRef values (the provider's
multi-factor claim). It is installed through SOCIALACCOUNT_PROVIDERS["saml"]["provider_class"].
"""

from allauth.socialaccount.providers.saml.provider import SAMLProvider

EVIDENCE = "pillarwise"


class DistrictSAMLProvider(SAMLProvider):
    def extract_extra_data(self, data):
        extra = dict(super().extract_extra_data(data))
        not_after = data.get_last_assertion_not_on_or_after()
        extra[EVIDENCE] = {
            "assertion_id": data.get_last_assertion_id() or "",
            "not_on_or_after": not_after,
            "authn_contexts": list(data.get_last_authn_contexts() or []),
        }
        return extra

    def unstash_redirect_state(self, request, state_id):
        """A response to no request of this browser (replayed, or stale): a refusal page."""
        from allauth.core.exceptions import ImmediateHttpResponse
        from allauth.socialaccount.helpers import render_authentication_error
        from django.core.exceptions import PermissionDenied

        try:
            return super().unstash_redirect_state(request, state_id)
        except PermissionDenied as exc:
            raise ImmediateHttpResponse(
                render_authentication_error(request, self, exception=exc)
            ) from None
