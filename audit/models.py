"""The privacy records: each district's retention rule and one row per purge of student
records. The audit log itself (``AuditEvent``) lives low in the house, in ``core``, since
every app writes to it."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from schools.dates import shown_datetime
from schools.models import District, School
from schools.scoping import DISTRICT, ScopedManager


class Retention(models.Model):
    """How long a district keeps the records of a student who has left.

    ``years_after_leaving`` empty: kept until purged by hand. Otherwise the nightly
    ``apply_retention`` task purges every student whose ``left_on`` is more than that many
    years ago (see audit/purge.py and docs/privacy.md).
    """

    district = models.OneToOneField(District, on_delete=models.CASCADE, related_name="retention")
    years_after_leaving = models.PositiveSmallIntegerField(
        "years to keep a student's records after they leave",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(25)],
        help_text="Leave empty to keep them until someone purges them. Device history "
        "stays, without the student.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("district", dimension=DISTRICT)

    def __str__(self) -> str:
        return f"Retention of {self.district}"


class PurgeRecord(models.Model):
    """That a purge happened: who asked, when, over what, and how many rows went.

    It names no student: ``scope`` is ``school:<code>``, ``student`` (one student, whose
    ID is not kept) or ``retention``; ``counts`` maps a table to the rows removed.
    """

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(
        School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scope = models.CharField(max_length=60)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_label = models.CharField(
        max_length=100, blank=True, help_text="Who ran it when no user did (a command, a task)."
    )
    at = models.DateTimeField(default=timezone.now)
    students = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)

    objects = ScopedManager("district", dimension=DISTRICT, concerns="school")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"Purge {self.scope} {shown_datetime(self.at)}"
