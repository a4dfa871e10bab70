"""A district's link to Google Admin: the connection (its service-account key sealed), the
org-unit → school map, what Google last said about each Chromebook, and every sync run.

Google's side is kept apart from the inventory: a ``GoogleDevice`` is Google's record of a
Chromebook (its status, org unit, annotated fields, last sync), linked to the inventory's
``Device`` with the same serial number once the sync has matched or created it. The
inventory keeps its own rules (``equity.inventory``); this app writes to it only through
the inventory's services and bulk writers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from equity.inventory.models import Device
from schools.models import District, School
from schools.scoping import DISTRICT, ScopedManager

# What the service-account key is sealed for (core/sealing.py derives a key per purpose).
KEY_PURPOSE = "pillarwise.googlesync.service-account-key"

DEFAULT_LOST_MESSAGE = (
    "This Chromebook belongs to the school district and was reported lost or stolen. "
    "Please return it to any school office."
)


class GoogleConnection(models.Model):
    """One district's Google Workspace service account (domain-wide delegation)."""

    district = models.OneToOneField(District, on_delete=models.CASCADE, related_name="+")
    customer_id = models.CharField(
        "customer ID",
        max_length=40,
        default="my_customer",
        help_text="From Google Admin, Account settings (C0…); my_customer means the "
        "customer of the admin below.",
    )
    admin_email = models.EmailField(
        "admin to act as",
        help_text="A Google Workspace admin who may manage Chrome devices; the service "
        "account acts as this person.",
    )
    org_unit_root = models.CharField(
        "org unit to read",
        max_length=400,
        default="/",
        help_text="Only devices in this org unit and below are read (/ for all).",
    )
    default_school = models.ForeignKey(
        School,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where a device of an unmapped org unit goes (empty: it is listed, not added).",
    )
    lost_message = models.TextField(
        "lost-device message",
        default=DEFAULT_LOST_MESSAGE,
        max_length=1000,
        help_text="Written to a device's notes in Google when it is disabled as lost.",
    )
    # The key file, sealed (core.sealing); never shown again. What identifies it is kept
    # in the clear so the page can say which key is in use.
    key_sealed = models.TextField(blank=True, editable=False)
    key_client_email = models.CharField(max_length=300, blank=True, editable=False)
    key_id = models.CharField(max_length=100, blank=True, editable=False)
    key_uploaded_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When a person approved the first run's preview; nightly runs start then.",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_full_sync_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ScopedManager("district", dimension=DISTRICT)

    def __str__(self) -> str:
        return f"Google Admin for {self.district}"

    def get_absolute_url(self) -> str:
        return reverse("googlesync:connection", args=[self.district_id])

    @property
    def has_key(self) -> bool:
        return bool(self.key_sealed)


def school_for(path: str, mapped: dict[str, int]) -> int | None:
    """The school of the longest mapped org unit that is ``path`` or above it."""
    probe = path.rstrip("/") or "/"
    while True:
        if probe in mapped:
            return mapped[probe]
        if probe == "/":
            return None
        probe = probe.rsplit("/", 1)[0] or "/"


class OrgUnit(models.Model):
    """An org-unit path Google reported, and the school it maps to (empty: unmapped).

    A mapping covers the org units below it too (/Students/Maple covers
    /Students/Maple/Grade 3); the longest mapped path wins."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=400)
    school = models.ForeignKey(
        School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    device_count = models.PositiveIntegerField(default=0, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["district", "path"], name="org_unit_unique_path")
        ]

    def __str__(self) -> str:
        return self.path


class GoogleStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    DISABLED = "DISABLED", "Disabled"
    DEPROVISIONED = "DEPROVISIONED", "Deprovisioned"
    OTHER = "OTHER", "Other"


class GoogleDevice(models.Model):
    """Google's record of one Chromebook, as the last sync read it. Recent users' e-mail
    addresses are never requested (the fields mask leaves them out), so none is stored."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    google_id = models.CharField(max_length=100)
    serial_number = models.CharField(max_length=100)
    model_name = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=GoogleStatus.choices)
    org_unit_path = models.CharField(max_length=400, blank=True)
    school = models.ForeignKey(
        School,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The school its org unit maps to (empty: unmapped).",
    )
    annotated_asset_id = models.CharField(max_length=200, blank=True)
    annotated_location = models.CharField(max_length=200, blank=True)
    auto_update_expiration = models.DateField(null=True, blank=True)
    last_sync = models.DateTimeField(
        "last seen by Google", null=True, blank=True, help_text="When the device last synced."
    )
    device = models.OneToOneField(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    seen_at = models.DateTimeField(help_text="The sync run that last read it.")

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["serial_number"]
        constraints = [
            models.UniqueConstraint(fields=["district", "google_id"], name="google_device_unique")
        ]
        indexes = [
            models.Index(fields=["district", "serial_number"], name="google_device_serial"),
            models.Index(fields=["district", "last_sync"], name="google_device_last_sync"),
        ]

    def __str__(self) -> str:
        return self.serial_number


class SyncRun(models.Model):
    """One sync of a district's Chromebooks: who asked, what it counted, how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        READING = "reading", "Reading from Google"
        WRITING = "writing", "Writing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dry_run = models.BooleanField(default=False)
    delta = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    devices_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    retired = models.PositiveIntegerField(default=0)
    backoffs = models.PositiveIntegerField(
        default=0, help_text="Times Google asked us to slow down (quota) and the run waited."
    )
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Google sync {self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("googlesync:run", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class AueTally(models.Model):
    """Per school and auto-update expiration day: how many of the district's devices (any
    kind, not retired) stop receiving updates that day, by the date that applies to each
    (``equity.inventory.models.applicable_expiration``). The reports' "Updates stop within
    12 months" adds up the rows of the coming year instead of reading every device of the
    district per request; a device with no date known never expires and has no row.

    Counted whole for the district (``googlesync.services.count_aue``) at the end of each
    sync, in its transaction, and each night for every district; ``AueCounted`` says when."""

    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    expires_on = models.DateField()
    devices = models.PositiveIntegerField()

    objects = ScopedManager("school", district="district")

    class Meta:
        constraints = [
            # One row per school and day; led by (district, expires_on), it is also the
            # index the reports read the coming year's rows of a district from.
            models.UniqueConstraint(
                fields=["district", "expires_on", "school"], name="aue_tally_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id}: {self.devices} on {self.expires_on}"


class AueCounted(models.Model):
    """When a district's ``AueTally`` was last counted (shown on the reports page)."""

    district = models.OneToOneField(
        District, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    counted_at = models.DateTimeField()

    objects = ScopedManager("district", dimension=DISTRICT)

    def __str__(self) -> str:
        return f"{self.district_id}: {self.counted_at}"
