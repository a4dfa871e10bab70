"""The district's register of apps: what each holds about students, its data-privacy
agreement (DPA), its accessibility conformance, and the district's decision.

A district approves software once, not per initiative. People request an app with the
learning it serves; the request passes the review steps the district defines (privacy,
accessibility, instruction, budget…), and a reviewer records the decision on the app.
Approved apps with their agreements are published to families (``public_views``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from schools.models import District, EditGuard, School
from schools.scoping import ScopedManager

# A DPA is flagged to tech staff this long before it expires.
DPA_WARNING = timedelta(days=60)


class DataCategory(models.TextChoices):
    """What a vendor holds about students (after the categories state DPAs list)."""

    NAME = "name", _("Name")
    EMAIL = "email", _("School e-mail address")
    STUDENT_ID = "student_id", _("Student ID")
    GRADE = "grade", _("Grade and class")
    WORK = "work", _("Student work and submissions")
    ASSESSMENT = "assessment", _("Scores and assessment results")
    USAGE = "usage", _("Usage and activity logs")
    AUDIO_VIDEO = "audio_video", _("Voice, photos or video")
    LOCATION = "location", _("Location")
    DEMOGRAPHIC = "demographic", _("Demographics")
    SPECIAL_ED = "special_ed", _("Special education or health records")


class DpaStatus(models.TextChoices):
    NONE = "none", _("No agreement")
    REQUESTED = "requested", _("Requested from the vendor")
    SIGNED = "signed", _("Signed")
    EXPIRED = "expired", _("Expired")


class WcagLevel(models.TextChoices):
    UNKNOWN = "", _("Not reviewed")
    NONE = "none", _("Does not conform")
    A = "A", "WCAG 2.1 A"
    AA = "AA", "WCAG 2.1 AA"
    AAA = "AAA", "WCAG 2.1 AAA"


class Decision(models.TextChoices):
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    APPROVED_WITH_CONDITIONS = "approved_with_conditions", _("Approved with conditions")
    DENIED = "denied", _("Denied")
    RETIRED = "retired", _("Retired")


APPROVED = (Decision.APPROVED, Decision.APPROVED_WITH_CONDITIONS)


class AppQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(decision__in=APPROVED)

    def current_dpa_q(self, today: date) -> Q:
        return Q(dpa_status=DpaStatus.SIGNED) & (
            Q(dpa_expires_on__isnull=True) | Q(dpa_expires_on__gte=today)
        )

    def cleared(self, today: date):
        """Approved with a signed, unexpired DPA: fit for a classroom."""
        return self.approved().filter(self.current_dpa_q(today))

    def dpa_expiring(self, today: date):
        """Signed agreements that run out within ``DPA_WARNING`` (or already have)."""
        return self.filter(
            dpa_status=DpaStatus.SIGNED,
            dpa_expires_on__isnull=False,
            dpa_expires_on__lte=today + DPA_WARNING,
        )


class App(EditGuard, models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="apps")
    name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=120, blank=True)
    website = models.URLField(blank=True)
    purpose = models.TextField(
        blank=True, help_text="What it is for: the learning or the work it serves."
    )
    grades = models.CharField(max_length=60, blank=True, help_text="For example K–5 or 9–12.")
    subjects = models.CharField(max_length=200, blank=True, help_text="For example Math, ELA.")
    data_collected = models.JSONField(
        "student data it collects",
        default=list,
        blank=True,
        help_text="Every kind of student data the vendor receives or stores.",
    )
    district_sign_in = models.BooleanField(
        "signs in with the district's accounts",
        default=False,
        help_text="Students and staff use their district account (SSO), not a separate password.",
    )
    dpa_status = models.CharField(
        "data-privacy agreement", max_length=12, choices=DpaStatus.choices, default=DpaStatus.NONE
    )
    dpa_signed_on = models.DateField("agreement signed on", null=True, blank=True)
    dpa_expires_on = models.DateField("agreement expires on", null=True, blank=True)
    dpa_url = models.URLField(
        "link to the agreement", blank=True, help_text="Shown to families on the public page."
    )
    dpa_standard = models.CharField(
        "agreement standard",
        max_length=120,
        blank=True,
        help_text="The model agreement used, if any: e.g. a state student-privacy alliance's.",
    )
    accessibility_url = models.URLField("accessibility conformance report (VPAT/ACR)", blank=True)
    wcag_level = models.CharField(
        "WCAG conformance", max_length=4, choices=WcagLevel.choices, blank=True
    )
    coppa_consent = models.BooleanField(
        "COPPA consent needed",
        default=False,
        help_text="Used by children under 13 and needs parental consent (or the school's).",
    )
    decision = models.CharField(max_length=30, choices=Decision.choices, default=Decision.IN_REVIEW)
    conditions = models.TextField(
        blank=True, help_text="Required when approved with conditions: what users must do."
    )
    decision_reason = models.TextField("why", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The expiry date a reminder was last sent for, so a retry or the next night sends none.
    dpa_reminded_for = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager.from_queryset(AppQuerySet)("district", dimension="district")

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                "district",
                models.functions.Lower("name"),
                name="software_app_name_unique_per_district",
                violation_error_message="The register already has an app of this name.",
            ),
            models.CheckConstraint(
                condition=Q(dpa_expires_on__isnull=True)
                | Q(dpa_signed_on__isnull=True)
                | Q(dpa_expires_on__gte=models.F("dpa_signed_on")),
                name="software_dpa_expires_after_signing",
                violation_error_message="An agreement cannot expire before it was signed.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = {}
        unknown = set(self.data_collected or []) - set(DataCategory.values)
        if unknown:
            errors["data_collected"] = "Unknown kinds of data: " + ", ".join(sorted(unknown))
        if self.dpa_status == DpaStatus.SIGNED and not self.dpa_signed_on:
            errors["dpa_signed_on"] = "Say when the agreement was signed."
        if self.dpa_signed_on and self.dpa_expires_on and self.dpa_expires_on < self.dpa_signed_on:
            errors["dpa_expires_on"] = "An agreement cannot expire before it was signed."
        if self.decision == Decision.APPROVED_WITH_CONDITIONS and not self.conditions.strip():
            errors["conditions"] = "Say what the conditions are."
        if errors:
            raise ValidationError(errors)

    # --- what the rest of Pillarwise asks -------------------------------------------------

    @property
    def approved(self) -> bool:
        return self.decision in APPROVED

    def dpa_current(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.dpa_status == DpaStatus.SIGNED and (
            self.dpa_expires_on is None or self.dpa_expires_on >= today
        )

    def shown_dpa_status(self, today: date | None = None) -> str:
        """The agreement's status as of today: a signed one past its date reads expired."""
        if self.dpa_status == DpaStatus.SIGNED and not self.dpa_current(today):
            return DpaStatus.EXPIRED.label
        return self.get_dpa_status_display()

    @property
    def accessibility_reviewed(self) -> bool:
        """A conformance report is on file and its WCAG level was read."""
        return bool(self.accessibility_url) and self.wcag_level not in ("", WcagLevel.NONE)

    def satisfies(self, kind: str, today: date | None = None) -> bool:
        """Whether this app settles an initiative's compliance item of ``kind``: approved,
        with a current DPA for privacy, with an accessibility review for accessibility."""
        if not self.approved:
            return False
        if kind == "data_privacy":
            return self.dpa_current(today)
        if kind == "accessibility":
            return self.accessibility_reviewed
        return False

    def data_labels(self) -> list[str]:
        labels = dict(DataCategory.choices)
        return [str(labels[c]) for c in self.data_collected or [] if c in labels]


class ReviewStep(models.Model):
    """One step every app request passes, in the district's order."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="review_steps")
    name = models.CharField(max_length=60)
    guidance = models.CharField(
        max_length=300, blank=True, help_text="What the reviewer checks at this step."
    )
    position = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager("district", dimension="district")

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "name"],
                name="software_step_name_unique_per_district",
                violation_error_message="There is already a step of this name.",
            )
        ]

    def __str__(self) -> str:
        return self.name


# The steps a district starts with (it may rename, reorder, add or remove them).
DEFAULT_STEPS = (
    ("Privacy", "The vendor signs the district's DPA; the data it collects is needed."),
    ("Accessibility", "A VPAT/ACR is on file and the app meets WCAG 2.1 AA, or a plan exists."),
    ("Instruction", "The app serves the learning named in the request; no approved app does."),
    ("Budget", "Licences are funded for the years asked."),
)


class RequestStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", _("Waiting for the requester to confirm their e-mail")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_REQUEST = (RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AppRequest(models.Model):
    """Someone asks the district to approve an app, saying what learning it serves.

    A signed-in person requests as themselves; a teacher without an account requests with
    the e-mail address on a school's staff roster and follows a link sent there, which is
    also where they see the request's progress (only a digest of it is stored)."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="app_requests")
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="requests")
    school = models.ForeignKey(
        School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requester_name = models.CharField(max_length=200)
    requester_email = models.EmailField(blank=True)
    why = models.TextField("the learning it serves")
    status = models.CharField(
        max_length=12, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED
    )
    link_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("district", dimension="district")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.app.name} requested by {self.requester_name}"

    def new_link_token(self) -> str:
        token = secrets.token_urlsafe(24)
        self.link_digest = _digest(token)
        return token

    @classmethod
    def for_token(cls, token: str):
        return cls.unscoped.filter(link_digest=_digest(token)).select_related("app", "district")


class Outcome(models.TextChoices):
    COMMENT = "comment", "Comment"
    PASSED = "passed", "Step passed"
    RETURNED = "returned", "Needs more information"


class RequestNote(models.Model):
    """A reviewer's comment or a step's outcome on a request: the request's history."""

    request = models.ForeignKey(AppRequest, on_delete=models.CASCADE, related_name="notes")
    step = models.ForeignKey(
        ReviewStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.COMMENT)
    text = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # Seen with its request: by the district's people.
    objects = ScopedManager("request__district", dimension="district")

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on {self.request_id}"
