"""Initiatives: the why, pillars, status workflow, milestones, budget, sign-offs, SWOT.

An initiative belongs to one or several schools (``schools``); a whole-district initiative
links every school of its district and says so with ``whole_district``. It is scoped through
that many-valued path, like a PD session.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from schools.models import District, School
from schools.scoping import ScopedManager


class Status(models.TextChoices):
    IDEA = "idea", "Idea"
    PLANNING = "planning", "Planning"
    PILOT = "pilot", "Pilot"
    ROLLOUT = "rollout", "Rollout"
    SUSTAINING = "sustaining", "Sustaining"
    RETIRED = "retired", "Retired"


class Initiative(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="initiatives")
    schools = models.ManyToManyField(School, related_name="initiatives")
    whole_district = models.BooleanField(
        default=False, help_text="The initiative concerns every school of the district."
    )
    title = models.CharField(max_length=200)
    why = models.TextField(
        "the why",
        blank=True,
        help_text="The change in teaching and learning this initiative serves.",
    )
    learning_goals = models.TextField(blank=True)
    success_measures = models.TextField(
        "how success will be measured",
        blank=True,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_initiatives",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IDEA)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("schools")

    class Meta:
        ordering = ["title", "pk"]

    def __str__(self) -> str:
        return self.title
