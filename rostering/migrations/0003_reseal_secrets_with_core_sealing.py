"""Client secrets sealed by the old rostering.secrets (HKDF of SECRET_KEY, without the
fallbacks) are sealed again by core.sealing, the one scheme of every stored credential; a
secret no key opens stays, and the source's page asks for it again."""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import migrations

PURPOSE = "pillarwise.rostering.client-secret"  # noqa: S105 - a key-derivation label


def legacy_key() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"pillarwise roster source secret"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def reseal(apps, schema_editor):
    from core.sealing import SecretUnreadable, seal, unseal

    sources = apps.get_model("rostering", "RosterSource")
    for row in sources.objects.exclude(client_secret_sealed="").only("pk", "client_secret_sealed"):
        try:
            unseal(row.client_secret_sealed, purpose=PURPOSE)
            continue
        except SecretUnreadable:
            pass
        try:
            plain = legacy_key().decrypt(row.client_secret_sealed.encode()).decode()
        except InvalidToken:
            continue
        sources.objects.filter(pk=row.pk).update(client_secret_sealed=seal(plain, purpose=PURPOSE))


class Migration(migrations.Migration):
    dependencies = [("rostering", "0002_source_urls_public")]

    operations = [migrations.RunPython(reseal, migrations.RunPython.noop)]
