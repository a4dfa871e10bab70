"""The imports' own record: a large CSV import waiting for, or run by, a worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from schools.models import School
from schools.scoping import ScopedManager


class ImportJob(models.Model):
    """A large CSV import, run by a worker (see equity/imports/ and docs/imports.md).

    The upload waits here as text until the worker takes it; the content is cleared when
    the job finishes, so a roster file that carried names does not stay in the database.
    """

    class Kind(models.TextChoices):
        DEVICES = "devices", "Devices"
        STUDENTS = "students", "Students"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        VALIDATING = "validating", "Checking every row"
        WRITING = "writing", "Writing"
        DONE = "done", "Done"
        FAILED = "failed", "Not imported"

    # The job page lists at most this many problems; error_count has the full number.
    MAX_STORED_ERRORS = 200

    school = models.ForeignKey(
        School,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Where rows that name no school go, and whose staff may follow the job.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    format = models.CharField(
        max_length=20, blank=True, help_text="Blank: detected from the header row."
    )
    dry_run = models.BooleanField(default=False)
    filename = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    details = models.JSONField(
        default=list, blank=True, help_text="Further lines: columns ignored, models added, …"
    )
    content = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager("school")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("equity:import_job", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
