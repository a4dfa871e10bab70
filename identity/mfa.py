"""The provider's multi-factor claim standing in for Pillarwise's own second factor.

At an SSO sign-in identity.services.admit decides whether the provider proved a second
factor that the district accepts and hangs the answer on the user object; when Django's
`user_logged_in` fires, accounts.signals calls ``remember`` to keep it in the new session
(and to drop it on a password sign-in), and accounts.middleware asks ``vouched``.
"""

from __future__ import annotations

from schools.models import Membership
from schools.scoping import outside_scope

from .models import MFA_AMR, SignInSettings

SESSION_KEY = "pw_sso"
USER_ATTRIBUTE = "pillarwise_sso"


def claimed(*, extra_data: dict, settings: SignInSettings) -> bool:
    """Whether the provider's answer says more than one factor was checked."""
    accepted = settings.mfa_values()
    id_token = extra_data.get("id_token") or {}
    userinfo = extra_data.get("userinfo") or {}
    for claims in (id_token, userinfo):
        amr = claims.get("amr") or []
        if isinstance(amr, str):
            amr = [amr]
        if MFA_AMR.intersection(str(v).lower() for v in amr):
            return True
        if str(claims.get("acr") or "") in accepted:
            return True
    contexts = (extra_data.get("pillarwise") or {}).get("authn_contexts") or []
    return bool(accepted.intersection(contexts))


def remember(session, user) -> None:
    """At any sign-in: keep this sign-in's SSO evidence in the session, or none."""
    evidence = getattr(user, USER_ATTRIBUTE, None)
    if evidence:
        session[SESSION_KEY] = evidence
    else:
        session.pop(SESSION_KEY, None)


def vouched(session, user) -> bool:
    """Whether the session's provider sign-in stands for the second factor.

    Only when the provider proved a second factor, its district (still) accepts that, and
    no other district of the person requires Pillarwise's own code.
    """
    evidence = session.get(SESSION_KEY) or {}
    if not evidence.get("mfa"):
        return False
    district_id = evidence.get("district")
    with outside_scope():
        accepts = SignInSettings.objects.filter(
            district_id=district_id, accept_provider_mfa=True
        ).exists()
        if not accepts:
            return False
        return not (
            Membership.objects.filter(user=user, district__require_two_factor=True)
            .exclude(district_id=district_id)
            .exists()
        )
