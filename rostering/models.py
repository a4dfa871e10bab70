"""Roster sources of a district (OneRoster CSV, OneRoster REST, Ed-Fi), their runs, and the
digital-equity detail Ed-Fi sends about a student's home connection.

Nothing here holds a student's name, birth date or contact details: the readers drop them
as they read (docs/rostering.md).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse

from core.outbound import public_url
from core.sealing import seal
from equity.inventory.models import Student
from schools.dates import shown_date
from schools.models import District
from schools.scoping import DISTRICT, ScopedManager


class SourceKind(models.TextChoices):
    ONEROSTER_CSV = "oneroster-csv", "OneRoster CSV bundle"
    ONEROSTER_API = "oneroster-api", "OneRoster REST API"
    EDFI = "edfi", "Ed-Fi ODS/API"


REST_KINDS = (SourceKind.ONEROSTER_API, SourceKind.EDFI)


class StudentKey(models.TextChoices):
    SOURCED_ID = "sourcedId", "sourcedId (the record's id in the source)"
    IDENTIFIER = "identifier", "identifier (the student number the district prints)"


SECRET_PURPOSE = "pillarwise.rostering.client-secret"  # noqa: S105 - a key-derivation label


class RosterSource(models.Model):
    """Where a district's roster comes from: one source of each kind per district."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    base_url = models.URLField(
        "API base URL",
        blank=True,
        validators=[public_url],
        help_text="OneRoster: up to the version, e.g. https://sis.example.org/ims/oneroster/"
        "v1p1. Ed-Fi: the data path, e.g. https://edfi.example.org/data/v3/ed-fi.",
    )
    token_url = models.URLField(
        "token URL",
        blank=True,
        validators=[public_url],
        help_text="Where an OAuth access token is requested (client credentials).",
    )
    client_id = models.CharField("client ID", max_length=200, blank=True)
    client_secret_sealed = models.TextField(blank=True, editable=False)
    bundle_path = models.CharField(
        "bundle path",
        max_length=500,
        blank=True,
        help_text="A OneRoster zip the SIS drops on the server each night (the nightly run "
        "reads it), in the district's drop folder: a file name, or a path inside that "
        "folder. An upload on the source's page needs none.",
    )
    student_key = models.CharField(
        "local student ID from",
        max_length=20,
        choices=StudentKey.choices,
        default=StudentKey.SOURCED_ID,
        help_text="OneRoster only; Ed-Fi's studentUniqueId is always the local student ID.",
    )
    touch_codes = models.CharField(
        "program codes meaning “needs a touchscreen”",
        max_length=500,
        blank=True,
        help_text="Comma-separated. Empty: the roster leaves the flag as it is.",
    )
    error_threshold = models.PositiveIntegerField(
        "errors allowed",
        default=0,
        validators=[MaxValueValidator(100_000)],
        help_text="A run with more records in error applies nothing. Records in error are "
        "skipped when a run applies.",
    )
    nightly = models.BooleanField(
        "apply every night",
        default=False,
        help_text="Set when a district admin applies the first preview.",
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    delta_since = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the last applied full read started; a nightly OneRoster API run "
        "asks only for records modified since.",
    )
    change_version = models.BigIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Ed-Fi: the server's newestChangeVersion when the last applied run read "
        "it; a nightly run asks only for changes after it (Change Queries).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["district", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "kind"],
                name="one_roster_source_per_kind",
                violation_error_message="The district already has a source of this kind.",
            )
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    def get_absolute_url(self) -> str:
        return reverse("rostering:source", args=[self.pk])

    @property
    def has_secret(self) -> bool:
        return bool(self.client_secret_sealed)

    def set_secret(self, secret: str) -> None:
        self.client_secret_sealed = seal(secret, purpose=SECRET_PURPOSE)

    @property
    def is_rest(self) -> bool:
        return self.kind in REST_KINDS

    def touch_code_set(self) -> frozenset[str]:
        return frozenset(c.strip().lower() for c in self.touch_codes.split(",") if c.strip())

    def drop_dir(self) -> Path:
        """The district's own drop folder (ROSTER_DROP_DIR/<district slug>)."""
        return Path(settings.ROSTER_DROP_DIR) / self.district.slug

    def bundle_file(self) -> Path:
        """The bundle path resolved inside the district's drop folder; a path that leads out
        of it (another district's folder, /etc, a symbolic link elsewhere) is refused."""
        folder = self.drop_dir().resolve()
        path = (folder / self.bundle_path).resolve()  # an absolute bundle_path stays absolute
        if not path.is_relative_to(folder):
            raise ValidationError(
                {"bundle_path": f"The bundle must be in this district's drop folder, {folder}."}
            )
        return path

    def clean(self):
        if self.bundle_path:
            self.bundle_file()
        if self.is_rest:
            missing = {
                name: "An API source needs this."
                for name in ("base_url", "token_url", "client_id")
                if not getattr(self, name)
            }
            if missing:
                raise ValidationError(missing)


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    READING = "reading", "Reading the roster"
    APPLYING = "applying", "Applying"
    PREVIEWED = "previewed", "Preview ready"
    APPLIED = "applied", "Applied"
    REFUSED = "refused", "Refused: nothing applied"
    FAILED = "failed", "Stopped: nothing applied"


RUNNING = (RunStatus.QUEUED, RunStatus.READING, RunStatus.APPLYING)


class RunTrigger(models.TextChoices):
    PAGE = "page", "From the page"
    COMMAND = "command", "sync_roster command"
    NIGHTLY = "nightly", "Nightly"


class RosterRun(models.Model):
    """One read of a source: a preview, or a preview applied. Kept as history."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(RosterSource, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices)
    apply = models.BooleanField(default=False, help_text="Asked to apply, not only preview.")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    phase = models.CharField(max_length=200, blank=True)
    records_read = models.PositiveIntegerField(default=0)
    delta = models.BooleanField(default=False, help_text="Only records changed since a date.")
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    notes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.source} run of {shown_date(self.created_at)}"

    def get_absolute_url(self) -> str:
        return reverse("rostering:run", args=[self.pk])

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def can_apply(self) -> bool:
        """A finished preview within the threshold may be applied (read again, applied)."""
        return self.status == RunStatus.PREVIEWED and self.error_count <= (
            self.source.error_threshold
        )


class StudentConnectivity(models.Model):
    """What Ed-Fi's digital-equity indicators say about a student's home connection and
    learning device (the descriptor code values, as the state publishes them). Whether the
    student has home internet at all is ``Student.home_internet``."""

    student = models.OneToOneField(
        Student, on_delete=models.CASCADE, primary_key=True, related_name="connectivity"
    )
    access_type = models.CharField("kind of access", max_length=60, blank=True)
    performance = models.CharField("performance", max_length=60, blank=True)
    barrier = models.CharField("barrier to access", max_length=60, blank=True)
    device_access = models.CharField("learning device access", max_length=60, blank=True)
    device_provider = models.CharField("learning device provider", max_length=60, blank=True)
    updated_at = models.DateTimeField()

    objects = ScopedManager("student__school", district="student__district")

    class Meta:
        verbose_name_plural = "student connectivity"

    def __str__(self) -> str:
        return f"{self.student_id}: {self.access_type or 'unknown'}"
