"""Stakeholders: surveys, invitations and responses; stories of connection; partnerships.

A survey belongs to one or several schools (``schools``) and is scoped through that
many-valued path. It may inform one initiative (``initiative``): the initiative's listening
rule asks whether at least one of its surveys has closed (``SurveyQuerySet.closed``).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from schools.models import School
from schools.scoping import ScopedManager


class SurveyQuerySet(models.QuerySet):
    def closed(self, today: date | None = None):
        """Surveys no longer taking answers: closed early by hand, or past their last day."""
        today = today or timezone.localdate()
        return self.filter(Q(closed_on__isnull=False) | Q(closes_on__lt=today))


class Survey(models.Model):
    schools = models.ManyToManyField(School, related_name="surveys")
    initiative = models.ForeignKey(
        "initiatives.Initiative",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        help_text="The initiative this survey listens for, if any.",
    )
    title = models.CharField(max_length=200)
    purpose = models.TextField(blank=True)
    opens_on = models.DateField()
    closes_on = models.DateField(help_text="The last day answers are taken.")
    closed_on = models.DateField(
        null=True, blank=True, help_text="Set when the survey was closed early by hand."
    )
    anonymous = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager.from_queryset(SurveyQuerySet)("schools")

    class Meta:
        ordering = ["-opens_on", "title"]

    def __str__(self) -> str:
        return self.title

    def is_closed(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.closed_on is not None or self.closes_on < today
