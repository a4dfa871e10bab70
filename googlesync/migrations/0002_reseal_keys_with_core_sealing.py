"""Service-account keys sealed by the old googlesync.crypto (a key derived from SECRET_KEY
with its own recipe) are sealed again by core.sealing, the one scheme of every stored
credential. A key already readable (under GOOGLE_SYNC_ENCRYPTION_KEY, now one of
ENCRYPTION_KEYS) is left as it is; one no key opens stays, and the page asks for it again."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import migrations

PURPOSE = "pillarwise.googlesync.service-account-key"


def legacy_keys() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    hashlib.sha256(b"pillarwise.googlesync:" + k.encode()).digest()
                )
            )
            for k in keys
        ]
    )


def reseal(apps, schema_editor):
    from core.sealing import SecretUnreadable, seal, unseal

    connections = apps.get_model("googlesync", "GoogleConnection")
    for row in connections.objects.exclude(key_sealed="").only("pk", "key_sealed"):
        try:
            unseal(row.key_sealed, purpose=PURPOSE)
            continue
        except SecretUnreadable:
            pass
        try:
            plain = legacy_keys().decrypt(row.key_sealed.encode()).decode()
        except InvalidToken:
            continue
        connections.objects.filter(pk=row.pk).update(key_sealed=seal(plain, purpose=PURPOSE))


class Migration(migrations.Migration):
    dependencies = [("googlesync", "0001_initial")]

    operations = [migrations.RunPython(reseal, migrations.RunPython.noop)]
