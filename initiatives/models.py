"""Initiatives: the why, pillars, status workflow, milestones, budget, sign-offs, SWOT.

An initiative belongs to one or several schools (``schools``); a whole-district initiative
links every school of its district and says so with ``whole_district``. It is scoped through
that many-valued path, like a PD session.

The workflow's vocabulary lives here (statuses, ``TRANSITIONS``, what counts as a closed
survey or a settled compliance item); the moves themselves go through one door,
``services.initiative_move`` (and ``services.initiative_start`` for a new initiative), which
validates, locks the row, saves and writes the ``StatusChange`` history. ``save()`` carries no
workflow (tests/test_save_overrides.py). The models' ``clean`` methods hold the rules a form
checks on its fields (a budget line's stage, a waiver's reason, the plan once money is
committed); the services check them again before they write (docs/initiatives.md).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from schools import numbers
from schools.dates import shown_date
from schools.funding import FundingSource
from schools.models import District, EditGuard, School
from schools.pillars import Pillar
from schools.scoping import ScopedManager


class Status(models.TextChoices):
    IDEA = "idea", "Idea"
    PLANNING = "planning", "Planning"
    PILOT = "pilot", "Pilot"
    ROLLOUT = "rollout", "Rollout"
    SUSTAINING = "sustaining", "Sustaining"
    RETIRED = "retired", "Retired"


# Where each status may go next. Forward one step, back one step (a pilot that taught us to
# re-plan), planning straight to rollout for a small change, and retirement from anywhere.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.IDEA: frozenset({Status.PLANNING, Status.RETIRED}),
    Status.PLANNING: frozenset({Status.IDEA, Status.PILOT, Status.ROLLOUT, Status.RETIRED}),
    Status.PILOT: frozenset({Status.PLANNING, Status.ROLLOUT, Status.RETIRED}),
    Status.ROLLOUT: frozenset({Status.PILOT, Status.SUSTAINING, Status.RETIRED}),
    Status.SUSTAINING: frozenset({Status.ROLLOUT, Status.RETIRED}),
    Status.RETIRED: frozenset({Status.PLANNING}),
}
# The life of an initiative, in order.
LIFECYCLE = tuple(Status)


def next_step(status: str) -> str:
    """The move most likely wanted from ``status``: the next allowed status of the life
    cycle (from Sustaining, Retired; from Retired, back to Planning). The "Move to" menu
    starts on it."""
    allowed = TRANSITIONS[status]
    later = LIFECYCLE[LIFECYCLE.index(status) + 1 :]
    return next((s for s in later if s in allowed), None) or next(
        s for s in LIFECYCLE if s in allowed
    )


# Statuses that put the initiative in front of students: listen first, be compliant.
GATED = frozenset({Status.PILOT, Status.ROLLOUT})
# Where a new initiative may start.
STARTING = frozenset({Status.IDEA, Status.PLANNING})
# Statuses in which an initiative is live (used by lists and the board summary).
ACTIVE = frozenset({Status.PLANNING, Status.PILOT, Status.ROLLOUT, Status.SUSTAINING})

NO_SURVEY_CLOSED = (
    "Listen first: no stakeholder survey linked to this initiative has closed yet. Link a "
    "survey and wait for it to close, or write why you go ahead without it."
)


class Initiative(EditGuard, models.Model):
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
    involves_devices = models.BooleanField(
        "puts devices in students' hands",
        default=False,
        help_text="Shows the device coverage plan and forecast of the schools concerned.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("schools")

    class Meta:
        ordering = ["title", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("initiatives:detail", args=[self.pk])

    # --- the rules --------------------------------------------------------------------

    @property
    def has_pedagogy_plan(self) -> bool:
        """The why and the learning goals are written: money may be committed."""
        return bool(self.why.strip() and self.learning_goals.strip())

    def has_closed_survey(self, today: date | None = None) -> bool:
        """At least one survey linked to the initiative has closed (any school's survey)."""
        from stakeholders.models import Survey, SurveyQuerySet

        if self.pk is None:
            return False
        surveys = SurveyQuerySet(model=Survey).filter(initiative_id=self.pk)
        return surveys.closed(today).exists()

    def open_compliance_items(self) -> list[ComplianceItem]:
        """Compliance items neither done nor waived with a reason (all schools)."""
        if self.pk is None:
            return []
        return [
            item
            for item in ComplianceItem.unscoped.filter(initiative_id=self.pk).select_related("app")
            if not item.settled
        ]

    def plan_problems(self) -> dict[str, list[str]]:
        """Pedagogy before money, seen from the plan: once a line is committed or spent, the
        why and the learning goals stay written (empty: fine)."""
        if (
            self.pk is not None
            and not self.has_pedagogy_plan
            and BudgetLine.unscoped.filter(initiative_id=self.pk)
            .exclude(stage=Stage.PLANNED)
            .exists()
        ):
            return {
                "learning_goals": [
                    "Money is already committed to this initiative: keep the why and the "
                    "learning goals written."
                ]
            }
        return {}

    def clean(self):
        # The plan form's rule, on its field. A status move is validated by
        # services.initiative_move, never here.
        problems = self.plan_problems()
        if problems:
            raise ValidationError(problems)


class StatusChange(models.Model):
    """One move of an initiative: who, when, from and to, and the override reason if the
    listening rule was overridden (kept on the record for good)."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    override_reason = models.TextField(
        blank=True, help_text="Why the initiative went ahead before a survey had closed."
    )

    objects = ScopedManager("initiative__schools")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.initiative_id}: {self.from_status or 'new'} → {self.to_status}"

    @property
    def overridden(self) -> bool:
        return bool(self.override_reason)


class InitiativePillar(models.Model):
    """One pillar an initiative serves (a row, as for PD sessions, so it filters anywhere)."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="pillars")
    pillar = models.CharField(max_length=30, choices=Pillar.choices)

    objects = ScopedManager("initiative__schools")

    class Meta:
        ordering = ["pillar"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "pillar"], name="initiatives_pillar_once")
        ]

    def __str__(self) -> str:
        return self.get_pillar_display()


class Milestone(models.Model):
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=200)
    due_on = models.DateField("due date")
    owner = models.CharField(
        max_length=200, blank=True, help_text="Who sees it through (a name or a team)."
    )
    done_on = models.DateField("done on", null=True, blank=True)

    objects = ScopedManager("initiative__schools")

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def done(self) -> bool:
        return self.done_on is not None

    def overdue(self, today: date | None = None) -> bool:
        return not self.done and self.due_on < (today or timezone.localdate())


class Category(models.TextChoices):
    DEVICES = "devices", "Devices"
    SOFTWARE = "software", "Software"
    INFRASTRUCTURE = "infrastructure", "Infrastructure"
    PD = "pd", "Professional development"
    SPACES = "spaces", "Furniture and spaces"
    OTHER = "other", "Other"


class Stage(models.TextChoices):
    PLANNED = "planned", "Planned"
    COMMITTED = "committed", "Committed"
    SPENT = "spent", "Spent"


class BudgetLine(models.Model):
    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="budget_lines"
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    description = models.CharField(max_length=200)
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("9999999999"))],
        help_text="In dollars.",
    )
    funding_source = models.CharField(max_length=20, choices=FundingSource.choices)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.PLANNED)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("initiative__schools")

    class Meta:
        ordering = ["category", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="initiatives_budget_positive")
        ]

    def __str__(self) -> str:
        return f"{self.description} ({numbers.money(self.amount)})"

    def clean(self):
        if self.stage != Stage.PLANNED and self.initiative_id:
            initiative = Initiative.unscoped.get(pk=self.initiative_id)
            if not initiative.has_pedagogy_plan:
                raise ValidationError(
                    {
                        "stage": "Write the why and the learning goals of the initiative before "
                        "committing or spending money on it; until then a line stays planned."
                    }
                )


class SignOffRole(models.TextChoices):
    PRINCIPAL = "principal", "Principal"
    DISTRICT_LEADER = "district_leader", "District leader"
    BOARD = "board", "School board"


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    CONDITIONS = "conditions", "Approved with conditions"
    DEFERRED = "deferred", "Deferred"
    DECLINED = "declined", "Declined"


class SignOff(models.Model):
    """A leader's or the board's decision on the initiative: buy-in on the record."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="sign_offs")
    role = models.CharField("who signs", max_length=20, choices=SignOffRole.choices)
    name = models.CharField(
        "name", max_length=200, help_text="The person, or the board meeting, that decided."
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    decided_on = models.DateField("date")
    comment = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager("initiative__schools")

    class Meta:
        ordering = ["-decided_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.get_decision_display()}"


class ComplianceKind(models.TextChoices):
    DATA_PRIVACY = "data_privacy", "Data privacy agreement with the vendor"
    ACCESSIBILITY = "accessibility", "Accessibility review"
    PARENT_NOTICE = "parent_notice", "Parent notice"
    OTHER = "other", "Other"


class ComplianceStatus(models.TextChoices):
    TO_DO = "to_do", "To do"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WAIVED = "waived", "Waived"


# Every new initiative starts with these, so the compliance rule never passes by omission.
STANDARD_COMPLIANCE = (
    ComplianceKind.DATA_PRIVACY,
    ComplianceKind.ACCESSIBILITY,
    ComplianceKind.PARENT_NOTICE,
)


class ComplianceItem(models.Model):
    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="compliance_items"
    )
    kind = models.CharField(max_length=20, choices=ComplianceKind.choices)
    detail = models.CharField(
        max_length=200, blank=True, help_text="What exactly: the vendor, the tool, the notice."
    )
    status = models.CharField(
        max_length=20, choices=ComplianceStatus.choices, default=ComplianceStatus.TO_DO
    )
    waiver_reason = models.TextField(
        "reason for the waiver", blank=True, help_text="Required when the item is waived."
    )
    evidence_url = models.URLField("evidence link", blank=True)
    app = models.ForeignKey(
        "software.App",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="compliance_items",
        verbose_name="app in the district's register",
        help_text="For a privacy or accessibility item: the app it is about. An approved app "
        "with a signed, current agreement settles the privacy item; with an accessibility "
        "review, the accessibility item.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("initiative__schools")

    class Meta:
        ordering = ["kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ComplianceStatus.WAIVED) | ~Q(waiver_reason=""),
                name="initiatives_waiver_has_reason",
            )
        ]

    def __str__(self) -> str:
        label = self.get_kind_display()
        return f"{label} — {self.detail}" if self.detail else label

    @property
    def settled(self) -> bool:
        """Done, waived with a written reason, or settled by the register: the linked app
        is approved with a current agreement (privacy) or an accessibility review."""
        if self.status == ComplianceStatus.DONE:
            return True
        if self.status == ComplianceStatus.WAIVED and bool(self.waiver_reason.strip()):
            return True
        return self.settled_by_register

    @property
    def settled_by_register(self) -> bool:
        return self.app_id is not None and self.app.satisfies(self.kind)

    def clean(self):
        if self.status == ComplianceStatus.WAIVED and not self.waiver_reason.strip():
            raise ValidationError({"waiver_reason": "Say why this item is waived."})
        if self.kind == ComplianceKind.OTHER and not self.detail.strip():
            raise ValidationError({"detail": "Say what this compliance item is."})


def school_year_label(year: int) -> str:
    return f"{year}–{(year + 1) % 100:02d}"


def current_school_year(today: date | None = None) -> int:
    """The year the current school year started (July onwards is the new year)."""
    today = today or timezone.localdate()
    return today.year if today.month >= 7 else today.year - 1


def _lines(text: str) -> list[str]:
    return [line.strip(" -•\t") for line in text.splitlines() if line.strip(" -•\t")]


class Swot(models.Model):
    """A school's yearly strengths, weaknesses, opportunities and threats, by a committee."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="swots")
    year = models.PositiveSmallIntegerField(
        "school year",
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text="The year the school year starts: 2025 for 2025–26.",
    )
    strengths = models.TextField(blank=True, help_text="One per line.")
    weaknesses = models.TextField(blank=True, help_text="One per line.")
    opportunities = models.TextField(blank=True, help_text="One per line.")
    threats = models.TextField(blank=True, help_text="One per line.")
    participants = models.TextField(
        "who took part",
        help_text="The committee: students, teachers, families, staff. One per line.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("school")

    class Meta:
        ordering = ["-year"]
        verbose_name = "SWOT analysis"
        verbose_name_plural = "SWOT analyses"
        constraints = [
            models.UniqueConstraint(
                fields=["school", "year"],
                name="initiatives_swot_once_a_year",
                violation_error_message="This school already has a SWOT for that year.",
            )
        ]

    def __str__(self) -> str:
        return f"SWOT {self.school} {self.year_label}"

    @property
    def year_label(self) -> str:
        return school_year_label(self.year)

    def quadrants(self) -> list[tuple[str, list[str]]]:
        return [
            ("Strengths", _lines(self.strengths)),
            ("Weaknesses", _lines(self.weaknesses)),
            ("Opportunities", _lines(self.opportunities)),
            ("Threats", _lines(self.threats)),
        ]

    @property
    def participant_list(self) -> list[str]:
        return _lines(self.participants)

    def clean(self):
        if not any(items for _label, items in self.quadrants()):
            raise ValidationError("Write at least one strength, weakness, opportunity or threat.")


class Connection(models.TextChoices):
    BRIDGE = "bridge", "Mostly a bridge to connection"
    MIXED = "mixed", "Both: a bridge for some, a barrier for others"
    BARRIER = "barrier", "Mostly a barrier"


class Reflection(models.Model):
    """A dated note answering the leader's reflective questions (docs/initiatives.md)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="reflections")
    initiative = models.ForeignKey(
        Initiative,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reflections",
        help_text="The initiative this reflection is about, if one.",
    )
    written_on = models.DateField(default=timezone.localdate)
    relationships = models.TextField(
        "How do our technology initiatives support, rather than hinder, authentic "
        "relationships in our school?"
    )
    connection = models.CharField(
        "Do staff and students see the technology as a bridge to connection or a barrier?",
        max_length=10,
        choices=Connection.choices,
    )
    connection_evidence = models.TextField(
        "What tells us so?", blank=True, help_text="What people said or did."
    )
    this_year = models.TextField("What will we do this year to keep innovation human-centred?")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager("school")

    class Meta:
        ordering = ["-written_on", "-pk"]

    def __str__(self) -> str:
        return f"Reflection {self.school} {shown_date(self.written_on)}"

    def clean(self):
        if (
            self.initiative_id
            and self.school_id
            and not Initiative.schools.through.unscoped.filter(
                initiative_id=self.initiative_id, school_id=self.school_id
            ).exists()
        ):
            raise ValidationError({"initiative": "This initiative does not concern this school."})
