"""People and providers of the sign-in tests: Riverbend signs in with riverbend.k12.us."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse

from identity.models import Provider, SignInSettings
from schools.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.oidc import CLIENT_ID, CLIENT_SECRET, oidc_provider  # noqa: F401 (fixture)

DOMAIN = "riverbend.k12.us"


@pytest.fixture
def sign_in_settings(district):
    return SignInSettings.objects.create(district=district, allowed_domains=DOMAIN)


@pytest.fixture
def invited(district, maple):
    """A principal of Maple invited by e-mail, who never chose a password."""
    user = UserFactory(email=f"ann@{DOMAIN}", full_name="Ann Invited", password=None)
    user.set_unusable_password()
    user.save()
    MembershipFactory(user=user, district=district, school=maple, role=Role.PRINCIPAL)
    return user


@pytest.fixture
def oidc_row(district, sign_in_settings, oidc_provider):  # noqa: F811
    provider = Provider(
        district=district,
        kind=Provider.Kind.OIDC,
        name="Loopback IdP",
        key="riverbend-oidc",
        server_url=oidc_provider.issuer,
        client_id=CLIENT_ID,
    )
    provider.set_secret(CLIENT_SECRET)
    provider.save()
    return provider


def callback_uri(host: str, provider: Provider) -> str:
    path = reverse("openid_connect_callback", kwargs={"provider_id": provider.key})
    return f"http://{host}{path}"


def oidc_sign_in(client, idp, provider, email, *, host="testserver", next_url=None):
    """The whole dance over HTTP: our login URL, the IdP's form, our callback."""
    idp.redirect_uris.add(callback_uri(host, provider))
    login_url = reverse("openid_connect_login", kwargs={"provider_id": provider.key})
    data = {"process": "login", **({"next": next_url} if next_url else {})}
    to_idp = client.post(login_url, data)
    assert to_idp.status_code == 302, to_idp.content[:500]
    location = urlsplit(to_idp["Location"])
    assert f"{location.scheme}://{location.netloc}" == idp.issuer
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    answer = requests.post(
        f"{idp.issuer}/authorize",
        data={**params, "login_email": email},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return client.get(f"{back.path}?{back.query}")
