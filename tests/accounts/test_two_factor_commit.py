"""Issue 15, item 5: two-factor sign-in without a test transaction around it.

Every other test runs inside a transaction, where django-otp's locked read of the devices
(``select_for_update``) passes whether or not the code opened one; here each request
commits on its own, as in production, so on PostgreSQL a lock outside a transaction fails.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
VERIFY = reverse("accounts:two_factor_verify")


def code_for(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def signed_in_with_password(user) -> Client:
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").url.startswith(VERIFY)  # the second step is owed
    return client


@pytest.fixture
def device(coach):
    device = TOTPDevice.objects.create(user=coach, name="Authenticator app", confirmed=True)
    return device


def test_an_authenticator_code_signs_in(coach, device):
    client = signed_in_with_password(coach)
    response = client.post(VERIFY, {"token": code_for(device), "next": "/pd/"})
    assert response.status_code == 302 and response.url == "/pd/"
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.last_used_at is not None


def test_a_recovery_code_signs_in_once(coach, device):
    codes = two_factor.new_recovery_codes(coach)
    client = signed_in_with_password(coach)
    assert client.post(VERIFY, {"token": codes[3]}).status_code == 302
    assert not StaticToken.objects.filter(token=codes[3]).exists()
    again = signed_in_with_password(coach)
    assert again.post(VERIFY, {"token": codes[3]}).status_code == 400


def test_a_wrong_code_is_counted_and_committed(coach, device):
    client = signed_in_with_password(coach)
    assert client.post(VERIFY, {"token": "123456"}).status_code == 400
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # The throttle holds the right code back until the wait has passed.
    assert client.post(VERIFY, {"token": code_for(device)}).status_code == 400


def test_setting_up_an_authenticator_commits_it(coach):
    client = Client()
    client.force_login(coach)
    client.get(reverse("accounts:two_factor_setup"))
    pending = TOTPDevice.objects.get(user=coach, confirmed=False)
    response = client.post(reverse("accounts:two_factor_setup"), {"token": code_for(pending)})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=coach, confirmed=True).count() == 1
    assert StaticToken.objects.filter(device__user=coach).count() == two_factor.RECOVERY_CODES
