"""Professional development: sessions, attendance, feedback, needs polls, Learning Leaders.

Formulas and choices are in docs/pd.md. Every model has a scoped default manager; a session
belongs to one or several schools (``schools``), so it is scoped through that many-valued
path, which the scoping mechanism filters through a subquery (no duplicate rows).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format

from schools.dates import shown_datetime
from schools.models import EditGuard, School, StaffMember
from schools.pillars import Pillar
from schools.scoping import DISTRICT, ScopedManager

# Self check-in opens this long before the start and closes this long after the end.
CHECKIN_OPENS_BEFORE = timedelta(hours=1)
CHECKIN_CLOSES_AFTER = timedelta(hours=12)


# A check-in code: how many digits, how long it works, how many wrong tries kill it, and
# how many may be sent to one person for one session in CODE_WINDOW.
CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=15)
CODE_ATTEMPTS = 5
CODES_PER_WINDOW = 3
CODE_WINDOW = timedelta(minutes=15)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def new_nonce() -> str:
    return secrets.token_hex(16)


class Format(models.TextChoices):
    WORKSHOP = "workshop", "Workshop"
    COACHING_CYCLE = "coaching_cycle", "Coaching cycle"
    PLC = "plc", "PLC"
    MODELLING = "classroom_modelling", "Classroom modelling"
    ONLINE_COURSE = "online_course", "Online course"
    CONFERENCE = "conference", "Conference"


class AttendanceStatus(models.TextChoices):
    ATTENDED = "attended", "Attended"
    EXCUSED = "excused", "Excused"
    ABSENT = "absent", "Absent"


class CheckinMode(models.TextChoices):
    AUTO = "auto", "Open around the session time"
    OPEN = "open", "Opened by the coach"
    CLOSED = "closed", "Closed by the coach"


class NeedTopic(models.TextChoices):
    DEVICE_BASICS = "device_basics", "Getting confident with our devices and accounts"
    LMS = "lms", "Our learning platform (assignments, feedback, grading)"
    FORMATIVE = "formative", "Checking for understanding with digital tools"
    DIFFERENTIATION = "differentiation", "Differentiating and personalising learning"
    ACCESSIBILITY = "accessibility", "Accessibility and universal design for learning"
    CREATION = "creation", "Students creating (video, podcasts, coding, making)"
    CITIZENSHIP = "citizenship", "Digital citizenship and online safety"
    AI = "ai", "Artificial intelligence in teaching and learning"
    FAMILIES = "families", "Communicating with families"
    DATA = "data", "Using data to plan instruction"
    SHARING = "sharing", "Sharing our classroom work openly"


class LearningLeader(models.Model):
    """A staff member in a school's Learning Leader cohort: chosen for leadership and a
    willingness to learn, not for technical skill; they lead PD for their own colleagues."""

    staff = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="learning_leader_terms"
    )
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="learning_leaders")
    cohort_year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text="The year the school year starts: 2025 for 2025–26.",
    )
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    why_nominated = models.TextField(
        help_text="What makes this person a leader among colleagues: trust, openness, "
        "willingness to learn in public. Technical skill is not the criterion."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager("school")

    class Meta:
        ordering = ["-cohort_year", "staff__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "cohort_year"],
                name="pd_leader_once_per_cohort",
                violation_error_message="This person is already in this cohort.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} ({self.cohort_label})"

    @property
    def cohort_label(self) -> str:
        return f"{self.cohort_year}–{(self.cohort_year + 1) % 100:02d}"


class PDSession(EditGuard, models.Model):
    schools = models.ManyToManyField(School, related_name="pd_sessions")
    title = models.CharField(max_length=200)
    date = models.DateField(db_index=True)
    start_time = models.TimeField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        "duration (minutes)",
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
    )
    format = models.CharField(max_length=30, choices=Format.choices, default=Format.WORKSHOP)
    job_embedded = models.BooleanField(
        "job-embedded",
        default=False,
        help_text="Takes place in the teacher's own classroom or team work, on real lessons.",
    )
    ongoing_series = models.BooleanField(
        "part of an ongoing series",
        default=False,
        help_text="One meeting of a series that continues over weeks, not a one-off.",
    )
    objective = models.TextField("learning objective", blank=True)
    pedagogical_why = models.TextField(
        "the pedagogical why",
        blank=True,
        help_text="What this changes for students' learning; the tool comes second.",
    )
    tools_covered = models.CharField(
        "other tools covered",
        max_length=300,
        blank=True,
        help_text="Tools that are not apps in the district's register (a device, a practice).",
    )
    apps = models.ManyToManyField(
        "software.App",
        blank=True,
        related_name="pd_sessions",
        verbose_name="apps covered",
        help_text="Apps from the district's register; only approved apps are offered.",
        limit_choices_to={"decision__in": ["approved", "approved_with_conditions"]},
    )
    facilitator_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pd_sessions_led",
    )
    facilitator_staff = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pd_sessions_led",
    )
    materials_url = models.URLField("materials link", blank=True)
    notes = models.TextField(blank=True)
    initiative = models.ForeignKey(
        "initiatives.Initiative",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pd_sessions",
        help_text="The initiative this session prepares people for, if any.",
    )
    allow_named_feedback = models.BooleanField(
        default=True,
        help_text="When cleared, every feedback answer is anonymous.",
    )
    checkin_token = models.CharField(max_length=64, unique=True, default=new_token)
    checkin_mode = models.CharField(
        max_length=10, choices=CheckinMode.choices, default=CheckinMode.AUTO
    )
    feedback_token = models.CharField(max_length=64, unique=True, default=new_token)
    feedback_requested_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pd_sessions_logged",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("schools")

    class Meta:
        ordering = ["-date", "-start_time", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(facilitator_user__isnull=False, facilitator_staff__isnull=True)
                    | Q(facilitator_user__isnull=True, facilitator_staff__isnull=False)
                ),
                name="pd_session_one_facilitator",
                violation_error_message="A session has exactly one facilitator.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({date_format(self.date)})"

    def get_absolute_url(self) -> str:
        return reverse("pd:session_detail", args=[self.pk])

    @property
    def hours(self) -> Decimal:
        """The session's length in hours, to two decimals: what a full attendee is credited."""
        return (Decimal(self.duration_minutes) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def facilitator(self):
        return self.facilitator_user or self.facilitator_staff

    @property
    def led_by_learning_leader(self) -> bool:
        return self.facilitator_staff_id is not None

    def starts_at(self) -> datetime:
        start = datetime.combine(self.date, self.start_time or datetime.min.time())
        return timezone.make_aware(start, timezone.get_current_timezone())

    def checkin_window(self) -> tuple[datetime, datetime]:
        """When the self check-in link works on its own (see docs/pd.md)."""
        start = self.starts_at()
        if self.start_time is None:
            # No start time: the whole session day, until noon the day after.
            return start, start + timedelta(days=1) + CHECKIN_CLOSES_AFTER
        end = start + timedelta(minutes=self.duration_minutes)
        return start - CHECKIN_OPENS_BEFORE, end + CHECKIN_CLOSES_AFTER

    def checkin_open(self, now: datetime | None = None) -> bool:
        if self.checkin_mode == CheckinMode.OPEN:
            return True
        if self.checkin_mode == CheckinMode.CLOSED:
            return False
        opens, closes = self.checkin_window()
        return opens <= (now or timezone.now()) <= closes

    def checkin_path(self) -> str:
        return reverse("pd:checkin", args=[self.checkin_token])

    def feedback_path(self) -> str:
        return reverse("pd:feedback", args=[self.feedback_token])


class SessionPillar(models.Model):
    """One pillar a session serves (a row, not JSON, so filtering works on every database)."""

    session = models.ForeignKey(PDSession, on_delete=models.CASCADE, related_name="pillars")
    pillar = models.CharField(max_length=30, choices=Pillar.choices)

    objects = ScopedManager("session__schools")

    class Meta:
        ordering = ["pillar"]
        constraints = [
            models.UniqueConstraint(fields=["session", "pillar"], name="pd_session_pillar_once")
        ]

    def __str__(self) -> str:
        return self.get_pillar_display()


class Attendance(models.Model):
    session = models.ForeignKey(PDSession, on_delete=models.CASCADE, related_name="attendances")
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="pd_attendances")
    status = models.CharField(
        max_length=10, choices=AttendanceStatus.choices, default=AttendanceStatus.ATTENDED
    )
    hours = models.DecimalField(
        "hours credited",
        max_digits=4,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(24))],
    )
    checked_in_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the person checked in with the link."
    )
    feedback_requested_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("staff__school")

    class Meta:
        ordering = ["staff__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["session", "staff"], name="pd_attendance_once"),
            models.CheckConstraint(
                condition=Q(status=AttendanceStatus.ATTENDED) | Q(hours=0),
                name="pd_attendance_hours_only_when_attended",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} — {self.get_status_display()}"


class StaffHours(models.Model):
    """A staff member's attended PD over the twelve months kept for their district
    (``HoursWindow``): what the reports read instead of summing every attendance row per
    request. Kept by pd.hours, which every write of attendance or of a session's date,
    length or kind calls in its transaction; a staff member without a row had no PD."""

    staff = models.OneToOneField(
        StaffMember, on_delete=models.CASCADE, primary_key=True, related_name="pd_hours"
    )
    hours = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(0))
    sessions = models.PositiveIntegerField(default=0)
    job_embedded_hours = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(0))
    ongoing_hours = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(0))

    objects = ScopedManager("staff__school")

    def __str__(self) -> str:
        return f"{self.staff_id}: {self.hours} h"


class HoursWindow(models.Model):
    """The twelve months ``StaffHours`` covers for a district: 365 days up to ``until``,
    moved each night by ``pd.tasks.move_hours_windows`` (``refreshed_at``, shown on the
    reports page)."""

    district = models.OneToOneField(
        "schools.District",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="pd_hours_window",
    )
    until = models.DateField()
    refreshed_at = models.DateTimeField()

    objects = ScopedManager("district", dimension=DISTRICT)

    def __str__(self) -> str:
        return f"{self.district_id}: to {self.until}"


class LeaderReach(models.Model):
    """Who reached whom over the twelve months kept for the district (``HoursWindow``): per
    attendee and Learning Leader (``leader``; none: sessions not led by a Learning Leader)
    the sessions attended and hours. The reports' distinct colleagues per leader are its
    rows; kept by pd.hours with ``StaffHours`` (the same writes, the same nightly count).
    ``school`` is the attendee's school when counted."""

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    leader = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    sessions = models.PositiveIntegerField(default=0)
    hours = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(0))

    objects = ScopedManager("school")

    def __str__(self) -> str:
        return f"{self.leader_id} reached {self.staff_id}"


class SessionTally(models.Model):
    """A session's attended people and hours per attendee school: what the reports' month
    chart, format mix and Learning Leaders' hours add up (a few rows per session instead of
    every attendance row of a district). Kept by pd.hours: every write of attendance counts
    its session again in its transaction, the nightly task counts each district whole (a
    person who moved school is counted under the new one from then on)."""

    session = models.ForeignKey(PDSession, on_delete=models.CASCADE, related_name="tallies")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    attended = models.PositiveIntegerField(default=0)
    hours = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(0))

    objects = ScopedManager("school")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "school"], name="pd_sessiontally_once")
        ]

    def __str__(self) -> str:
        return f"{self.session_id} at {self.school_id}: {self.attended}, {self.hours} h"


class FeedbackTally(models.Model):
    """A session's feedback: number of answers and the sum of their ratings (the reports'
    feedback by format). Kept by pd.hours, which the feedback service and the admin call."""

    session = models.OneToOneField(
        PDSession, on_delete=models.CASCADE, primary_key=True, related_name="feedback_tally"
    )
    answers = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)

    objects = ScopedManager("session__schools")

    def __str__(self) -> str:
        return f"{self.session_id}: {self.answers} answers"


class Feedback(models.Model):
    """One answer to a session's feedback link. An anonymous answer stores no person, no
    address, no browser and only the day it was given."""

    session = models.ForeignKey(PDSession, on_delete=models.CASCADE, related_name="feedback")
    staff = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="pd_feedback"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    will_apply = models.TextField("what I will apply", blank=True)
    submitted_on = models.DateField()

    objects = ScopedManager("session__schools")

    class Meta:
        ordering = ["-submitted_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "staff"],
                condition=Q(staff__isnull=False),
                name="pd_feedback_once_per_person",
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="pd_feedback_rating_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.session_id}"

    @property
    def anonymous(self) -> bool:
        return self.staff_id is None


class CheckinCode(models.Model):
    """A one-time code e-mailed to an address of the roster, to prove it at self check-in.

    The code itself is not stored: it is derived from the row's id and nonce under the
    server's secret (``code``), so a copy of the database does not hold live codes and the
    task that e-mails it needs only the id. A code works once, for ``CODE_LIFETIME``, and
    dies after ``CODE_ATTEMPTS`` wrong tries (docs/pd.md, "Self check-in").
    """

    session = models.ForeignKey(PDSession, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=32, default=new_nonce)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager("staff__school")

    class Meta:
        indexes = [
            models.Index(fields=["session", "staff", "created_at"], name="pd_code_lookup"),
        ]

    def __str__(self) -> str:
        return f"Check-in code {self.pk} for session {self.session_id}"

    @property
    def code(self) -> str:
        digest = salted_hmac("pd.checkin-code", f"{self.pk}:{self.nonce}").hexdigest()
        return f"{int(digest, 16) % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


class PDSessionChange(models.Model):
    """Who changed what on a session: ``changes`` maps a field label to [old, new].

    ``school`` is the school whose rows the change describes (attendance of its staff, its
    taking part), empty for the session as a whole. One edit that touches several schools
    is written as one row per school, so each reader sees only the lines about schools
    they may see (``concerns`` in schools/scoping.py)."""

    session = models.ForeignKey(PDSession, on_delete=models.CASCADE, related_name="changes")
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    changes = models.JSONField()

    objects = ScopedManager("session__schools", concerns="school")

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        at = shown_datetime(self.changed_at)
        return f"{self.session_id} changed by {self.changed_by_id} at {at}"


class PDNeedsPoll(models.Model):
    """A short poll of what staff want to learn next, for one school and one period."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="pd_polls")
    period = models.CharField(max_length=80, help_text="For example “Spring 2026”.")
    opens_on = models.DateField()
    closes_on = models.DateField()
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager("school")

    class Meta:
        ordering = ["-opens_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_on__lte=models.F("closes_on")), name="pd_poll_dates_in_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school} — {self.period}"

    def get_absolute_url(self) -> str:
        return reverse("pd:poll_results", args=[self.pk])

    def is_open(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.opens_on <= today <= self.closes_on

    def answer_path(self) -> str:
        return reverse("pd:poll_answer", args=[self.token])


class PDNeedsResponse(models.Model):
    """One anonymous answer to a needs poll: the topics ticked and any other need."""

    poll = models.ForeignKey(PDNeedsPoll, on_delete=models.CASCADE, related_name="responses")
    other = models.CharField("something else", max_length=300, blank=True)
    submitted_on = models.DateField()

    objects = ScopedManager("poll__school")

    class Meta:
        ordering = ["-submitted_on", "-pk"]

    def __str__(self) -> str:
        return f"Answer to {self.poll_id}"


class PDNeedsChoice(models.Model):
    response = models.ForeignKey(PDNeedsResponse, on_delete=models.CASCADE, related_name="choices")
    topic = models.CharField(max_length=30, choices=NeedTopic.choices)

    objects = ScopedManager("response__poll__school")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "topic"], name="pd_need_choice_once")
        ]

    def __str__(self) -> str:
        return self.get_topic_display()


# The district-wide report, summarised (pd/summary.py); its own module for size.
from .report_models import DistrictPDReport, DistrictPDStaffRow  # noqa: E402,F401
