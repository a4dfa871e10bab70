"""Readiness: evidence indicators per pillar, the jobs that compute them, snapshots.

A ``ReadinessRun`` is one request to compute a school or a whole district (nightly, after a
change, a "recompute now" button, the command line or the demo). Each run stores at most one
``Snapshot`` per school (``unique(run, school)``), so a re-delivered task stores nothing new;
a run whose result for a school equals that school's latest snapshot (same fingerprint)
stores no new row either and only marks the latest one as confirmed. Formulas, targets and
weights: docs/readiness.md and ``readiness/indicators.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from schools.dates import shown_datetime
from schools.models import District, School
from schools.scoping import DISTRICT, ScopedManager


class IndicatorTarget(models.Model):
    """A district's own target (and optionally weight) for one indicator.

    Without a row the registry's default applies (``indicators.REGISTRY``)."""

    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="readiness_targets"
    )
    indicator = models.CharField(max_length=60)
    target = models.FloatField()
    weight = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text="Blank: the default weight.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["indicator"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "indicator"], name="readiness_target_once_per_indicator"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator}: {self.target}"

    def save(self, *args, **kwargs):
        self.full_clean()
        super().save(*args, **kwargs)

    def clean(self):
        from .indicators import REGISTRY

        spec = REGISTRY.get(self.indicator)
        if spec is None:
            raise ValidationError({"indicator": "There is no indicator with this key."})
        if self.target is not None and not spec.floor < self.target <= spec.ceiling:
            raise ValidationError(
                {"target": f"Enter a target above {spec.floor:g} and at most {spec.ceiling:g}."}
            )


class RunKind(models.TextChoices):
    NIGHTLY = "nightly", "Nightly"
    CHANGE = "change", "After a change"
    MANUAL = "manual", "Recompute now"
    COMMAND = "command", "Command line"
    DEMO = "demo", "Demo history"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Computing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReadinessRun(models.Model):
    """One computation of a school (``school`` set) or of a whole district."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="readiness_runs")
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="readiness_runs"
    )
    kind = models.CharField(max_length=10, choices=RunKind.choices)
    status = models.CharField(
        max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    as_of = models.DateField(
        null=True, blank=True, help_text="Compute as of this day (blank: the day it runs)."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    snapshots_stored = models.PositiveIntegerField(default=0)
    schools_unchanged = models.PositiveIntegerField(default=0)
    # The district's mean overall and pillar scores after this run (for the district trend).
    summary = models.JSONField(default=dict, blank=True)

    objects = ScopedManager("district", dimension=DISTRICT, concerns="school")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["district", "status"], name="readiness_run_status")]

    def __str__(self) -> str:
        where = self.school.code if self.school_id else f"district {self.district_id}"
        return f"{self.get_kind_display()} run of {where} ({self.get_status_display()})"

    @property
    def pending(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)


class Snapshot(models.Model):
    """A school's scores at one time: overall, per pillar, and the indicators behind them."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="readiness_snapshots")
    run = models.ForeignKey(
        ReadinessRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="snapshots"
    )
    computed_at = models.DateTimeField(db_index=True)
    confirmed_at = models.DateTimeField(
        help_text="The last time a run found exactly these results again."
    )
    as_of = models.DateField()
    fingerprint = models.CharField(max_length=64)
    overall = models.FloatField(null=True, blank=True)
    # {pillar key: score 0–100 or null}, always the seven keys.
    pillars = models.JSONField(default=dict)
    # One object per indicator: key, pillar, value (None: no evidence), score, target,
    # weight, evidence (records counted) and detail. Stored with the snapshot so that one
    # insert stores a school's whole result and the history keeps the targets it was
    # scored against.
    indicators = models.JSONField(default=list)

    objects = ScopedManager("school")

    class Meta:
        ordering = ["-computed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "school"], name="readiness_one_snapshot_per_run")
        ]
        indexes = [
            models.Index(fields=["school", "-computed_at"], name="readiness_snapshot_latest")
        ]

    def __str__(self) -> str:
        return f"{self.school_id} at {shown_datetime(self.computed_at)}"

    def pillar_score(self, key: str) -> float | None:
        return self.pillars.get(key)
