"""What every app writes to, low in the house: the audit log and the task outbox.

Both tables were created by the ``audit`` app and keep their names (``db_table``); the
models moved here so that the domain apps write to them without importing ``audit``, which
sits above them (it purges their student records). See docs/architecture.md, "Layers".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from schools.dates import shown_datetime
from schools.models import District, School
from schools.scoping import DISTRICT, ScopedManager


class Kind(models.TextChoices):
    LOGIN = "login", "Signed in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    DENIED_SCOPE = "denied_scope", "Refused: outside the user's schools (404)"
    DENIED_ROLE = "denied_role", "Refused: role does not allow it (403)"
    EXPORT = "export", "Export"
    BULK = "bulk", "Bulk action"
    DELETE = "delete", "Deletion"
    PURGE = "purge", "Student records purged"
    RETENTION = "retention", "Retention setting changed"
    API_TOKEN = "api_token", "API token made or revoked"
    API_WRITE = "api_write", "Change through the API"
    SSO_REFUSED = "sso_refused", "Refused: sign-in through the district's provider"
    SIGN_IN_SETTINGS = "sign_in_settings", "Sign-in settings changed"
    APP_REGISTER = "app_register", "App register changed"
    APP_REQUEST = "app_request", "App request"
    INTEGRATION = "integration", "Connection to another system changed"


class AuditEvent(models.Model):
    """One audited act. Written once with a single INSERT, never changed.

    ``detail`` is a short fixed-form text written by the code (a URL name, a count, a
    filename), never a value a person typed about a student: no names, no local IDs.
    A failed sign-in keeps no e-mail address: ``subject_hash`` is an HMAC of the address
    under the server's secret, so repeated attempts on one address can be grouped and
    compared with a known address, but the log cannot be read back into addresses.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    district = models.ForeignKey(
        District, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    school = models.ForeignKey(
        School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    subject_hash = models.CharField(max_length=64, blank=True)

    # An event about one school's records is seen with that school (schools/scoping.py).
    objects = ScopedManager("district", dimension=DISTRICT, concerns="school")

    class Meta:
        db_table = "audit_auditevent"
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["district", "at"], name="audit_district_at"),
            models.Index(fields=["district", "kind", "at"], name="audit_district_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {shown_datetime(self.at)}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are never rewritten.")
        super().save(*args, **kwargs)


class PendingTask(models.Model):
    """A task that could not be handed to the broker (Redis down) and waits to be re-sent.

    Written by ``core.queue.enqueue`` instead of failing the page; ``flush_pending_jobs``
    (and the beat task of the same work, every minute, and each worker at start) re-sends
    them oldest first once the broker answers. ``key`` (task name and arguments) lets a
    page ask whether its job is held. It belongs to no school: only ids are stored.
    """

    name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    key = models.CharField(max_length=255, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "audit_pendingtask"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.key
