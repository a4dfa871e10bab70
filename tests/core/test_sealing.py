"""Every stored credential is sealed by core.sealing: keys rotate without losing secrets,
purposes keep secrets apart, and the older per-app schemes are sealed again on migrate."""

import base64
import hashlib
import importlib

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.apps import apps

from core.sealing import SecretUnreadable, seal, unseal
from googlesync.models import KEY_PURPOSE, GoogleConnection
from identity.models import Provider
from rostering.models import SECRET_PURPOSE, RosterSource

PURPOSE = "pillarwise.test"


def test_a_secret_opens_only_for_its_own_purpose():
    sealed = seal("client-secret-123", purpose=PURPOSE)
    assert "client-secret-123" not in sealed
    assert unseal(sealed, purpose=PURPOSE) == "client-secret-123"
    with pytest.raises(SecretUnreadable):
        unseal(sealed, purpose="pillarwise.other")
    assert seal("", purpose=PURPOSE) == "" and unseal("", purpose=PURPOSE) == ""


def test_rotating_secret_key_keeps_secrets_through_the_fallbacks(settings):
    sealed = seal("s3cret", purpose=PURPOSE)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    with pytest.raises(SecretUnreadable):
        unseal(sealed, purpose=PURPOSE)
    settings.SECRET_KEY_FALLBACKS = [old]
    assert unseal(sealed, purpose=PURPOSE) == "s3cret"
    # Sealed again, it opens under the new key alone.
    again = seal("s3cret", purpose=PURPOSE)
    settings.SECRET_KEY_FALLBACKS = []
    assert unseal(again, purpose=PURPOSE) == "s3cret"


def test_configured_encryption_keys_come_first(settings):
    key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [key]
    sealed = seal("s3cret", purpose=PURPOSE)
    assert Fernet(key).decrypt(sealed.encode()) == b"s3cret"
    settings.ENCRYPTION_KEYS = []
    with pytest.raises(SecretUnreadable):
        unseal(sealed, purpose=PURPOSE)


@pytest.mark.django_db
def test_each_app_stores_its_credential_through_the_one_scheme(district):
    provider = Provider(district=district, kind="oidc", name="IdP", key="idp-1")
    provider.set_secret("oidc-secret")
    assert unseal(provider.sealed_secret, purpose="pillarwise.identity.client-secret") == (
        "oidc-secret"
    )
    source = RosterSource(district=district, kind="oneroster-api")
    source.set_secret("roster-secret")
    assert unseal(source.client_secret_sealed, purpose=SECRET_PURPOSE) == "roster-secret"


def _migration(label: str, name: str):
    return importlib.import_module(f"{label}.migrations.{name}")


@pytest.mark.django_db
def test_old_google_keys_are_sealed_again(district, settings):
    digest = hashlib.sha256(b"pillarwise.googlesync:" + settings.SECRET_KEY.encode()).digest()
    old = Fernet(base64.urlsafe_b64encode(digest)).encrypt(b'{"type": "service_account"}')
    row = GoogleConnection.unscoped.create(district=district, key_sealed=old.decode())
    _migration("googlesync", "0002_reseal_keys_with_core_sealing").reseal(apps, None)
    row.refresh_from_db()
    assert unseal(row.key_sealed, purpose=KEY_PURPOSE) == '{"type": "service_account"}'


@pytest.mark.django_db
def test_old_roster_secrets_are_sealed_again(district, settings):
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"pillarwise roster source secret"
    ).derive(settings.SECRET_KEY.encode())
    old = Fernet(base64.urlsafe_b64encode(key)).encrypt(b"roster-secret").decode()
    row = RosterSource.objects.create(
        district=district, kind="oneroster-api", client_secret_sealed=old
    )
    unreadable = RosterSource.objects.create(
        district=district, kind="edfi", client_secret_sealed="gAAAA-not-a-token"
    )
    _migration("rostering", "0003_reseal_secrets_with_core_sealing").reseal(apps, None)
    row.refresh_from_db()
    unreadable.refresh_from_db()
    assert unseal(row.client_secret_sealed, purpose=SECRET_PURPOSE) == "roster-secret"
    assert unreadable.client_secret_sealed == "gAAAA-not-a-token"  # the page asks again


@pytest.mark.django_db
def test_a_secret_no_key_opens_is_named_when_the_run_needs_it(district):
    from rostering.records import RosterProblem
    from rostering.services import reader_for

    source = RosterSource.objects.create(
        district=district,
        kind="oneroster-api",
        base_url="https://93.184.216.34/ims/oneroster/v1p1",
        token_url="https://93.184.216.34/token",
        client_id="pw",
        client_secret_sealed=seal("x", purpose="pillarwise.another-purpose"),
    )
    with pytest.raises(RosterProblem, match="type it again on the source's page"):
        reader_for(source, None)
