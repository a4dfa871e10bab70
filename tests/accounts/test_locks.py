"""Two-factor sign-in and recovery codes lock rows: run without pytest-django's wrapping
transaction, where PostgreSQL (CI) refuses a lock outside ``transaction.atomic`` and
``row_locks`` refuses one on any database. This is the class of the sign-in 500 of issue 15.
Listed in tests/test_row_locks.py."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_replaces_recovery_codes_under_the_account_lock(row_locks, coach):
    first = two_factor.new_recovery_codes(coach)
    second = two_factor.new_recovery_codes(coach)

    assert StaticDevice.objects.filter(user=coach).count() == 1
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert stored == set(second) and not stored & set(first)
    row_locks.assert_taken("accounts.two_factor:new_recovery_codes")


def _signed_in_with_password(user) -> Client:
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def test_it_signs_in_with_a_code_and_a_recovery_code(row_locks, coach):
    device = TOTPDevice.objects.create(user=coach, name="Authenticator app", confirmed=True)
    codes = two_factor.new_recovery_codes(coach)
    verify = reverse("accounts:two_factor_verify")

    app = _signed_in_with_password(coach)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = app.post(verify, {"token": code, "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    assert app.get("/").status_code == 200  # the second factor is proven: no detour

    recovery = _signed_in_with_password(coach)
    response = recovery.post(verify, {"token": codes[0], "next": "/pd/"})
    assert response.status_code == 302 and response.url == "/pd/"
    assert not StaticToken.objects.filter(token=codes[0]).exists()  # used up
    assert StaticToken.objects.count() == len(codes) - 1
    row_locks.assert_taken("accounts.two_factor:verify")
