"""Districts, schools, who belongs where, and the staff roster."""

from __future__ import annotations

import math
import operator
import zoneinfo
from decimal import Decimal
from functools import lru_cache, reduce

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from .scoping import DISTRICT, SCHOOL, WHOLE, ScopedManager

STALE_MESSAGE = (
    "Someone else saved this record after you opened it, so your changes were not saved. "
    "Reload the page to see theirs, then make your changes again."
)


class EditGuard:
    """Makes a model's UPDATE conditional on the ``updated_at`` an edit form started from.

    ``EditTokenMixin`` (schools/forms.py) sets ``_edit_token`` on the instance; the next
    save then updates only if the row still has that ``updated_at``, and otherwise raises
    a ValidationError instead of overwriting the other person's save. Saves without a
    token (services, tasks) are unaffected. The token is used once.
    """

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        expected = self.__dict__.pop("_edit_token", None)
        if expected is None:
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        updated = super()._do_update(
            base_qs.filter(updated_at=expected), using, pk_val, values, update_fields, True
        )
        if not updated:
            # Answer "updated" so Django does not try an INSERT; save() raises after.
            self._stale_edit = True
        return True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if self.__dict__.pop("_stale_edit", False):
            raise ValidationError(STALE_MESSAGE, code="stale")


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", "District admin"
    PRINCIPAL = "principal", "Principal"
    COACH = "coach", "Coach"
    TECH_STAFF = "tech_staff", "Tech staff"


class Grade(models.IntegerChoices):
    PK = -1, "PK"
    K = 0, "K"
    G1 = 1, "1"
    G2 = 2, "2"
    G3 = 3, "3"
    G4 = 4, "4"
    G5 = 5, "5"
    G6 = 6, "6"
    G7 = 7, "7"
    G8 = 8, "8"
    G9 = 9, "9"
    G10 = 10, "10"
    G11 = 11, "11"
    G12 = 12, "12"


# Grade bands in which enrollment is recorded: (field, label, lowest grade, highest grade).
# PK-2 is its own band because the touchscreen target covers it.
GRADE_BANDS = (
    ("enrollment_pk_2", "PK–2", Grade.PK, Grade.G2),
    ("enrollment_3_5", "3–5", Grade.G3, Grade.G5),
    ("enrollment_6_8", "6–8", Grade.G6, Grade.G8),
    ("enrollment_9_12", "9–12", Grade.G9, Grade.G12),
)


MAX_BAND_ENROLLMENT = 100_000


def device_target(enrollment: int, ratio: Decimal) -> int:
    """Devices a school should own: planning ratio × enrollment, rounded up."""
    # Decimal keeps 1.10 × 100 at exactly 110 (a float would give 110.00000000000001).
    return math.ceil(Decimal(enrollment) * Decimal(ratio))


class DateOrder(models.TextChoices):
    """How the district writes a date in numbers (in the files it imports)."""

    MDY = "mdy", "MM/DD/YYYY (08/15/2026)"
    DMY = "dmy", "DD/MM/YYYY (15/08/2026)"


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(f"{value} is not a time zone name such as America/Chicago.")


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_choices() -> list[tuple[str, str]]:
    """The IANA zones, America's first (most districts), each under its own name."""
    names = sorted(time_zone_names(), key=lambda n: (not n.startswith("America/"), n))
    return [(n, n.replace("_", " ")) for n in names if "/" in n and not n.startswith("Etc/")]


class District(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    device_planning_ratio = models.DecimalField(
        "device planning ratio",
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.10"),
        validators=[MinValueValidator(Decimal("1.00")), MaxValueValidator(Decimal("3.00"))],
        help_text="Devices to own per enrolled student. 1.1 keeps a 10% spare pool so no "
        "student is left without while a device is lost or in repair.",
    )
    pd_hour_target = models.DecimalField(
        "PD-hour target",
        max_digits=5,
        decimal_places=1,
        default=Decimal("20.0"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("400"))],
        help_text="Hours of professional learning each teacher should reach in 12 months.",
    )
    survey_min_group = models.PositiveSmallIntegerField(
        "smallest group shown in survey results",
        default=5,
        validators=[MinValueValidator(3), MaxValueValidator(50)],
        help_text="Survey results for a group of fewer respondents are hidden, so no one "
        "can be recognised by their answers.",
    )
    time_zone = models.CharField(
        max_length=64,
        default=settings.TIME_ZONE,
        validators=[validate_time_zone],
        help_text="Dates and times are shown in this zone to everyone of the district, and "
        "“today” starts at its midnight.",
    )
    date_order = models.CharField(
        "dates in imported files",
        max_length=3,
        choices=DateOrder.choices,
        default=DateOrder.MDY,
        help_text="How a date written in numbers is read in an import (year-month-day, as "
        "ISO writes it, is always accepted).",
    )
    require_two_factor = models.BooleanField(
        "require two-factor sign-in for roles that see student records",
        default=False,
        help_text="District admins, principals and tech staff must add an authenticator app "
        "before they can use Pillarwise. Coaches may still choose to.",
    )

    objects = ScopedManager("pk", dimension=DISTRICT)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("schools:district_settings", args=[self.pk])


class SchoolQuerySet(models.QuerySet):
    def with_enrollment(self):
        return self.annotate(total_enrollment=reduce(operator.add, (F(n) for n, *_ in GRADE_BANDS)))


class School(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(max_length=200)
    code = models.CharField(
        max_length=20, help_text="The district's own code for the school, unique in the district."
    )
    lowest_grade = models.SmallIntegerField(choices=Grade.choices, default=Grade.K)
    highest_grade = models.SmallIntegerField(choices=Grade.choices, default=Grade.G5)
    # No school enrolls this many in a grade band: a figure with a few zeros too many is
    # refused on its field instead of skewing every district total and device target.
    enrollment_pk_2 = models.PositiveIntegerField(
        "enrollment PK–2", default=0, validators=[MaxValueValidator(MAX_BAND_ENROLLMENT)]
    )
    enrollment_3_5 = models.PositiveIntegerField(
        "enrollment 3–5", default=0, validators=[MaxValueValidator(MAX_BAND_ENROLLMENT)]
    )
    enrollment_6_8 = models.PositiveIntegerField(
        "enrollment 6–8", default=0, validators=[MaxValueValidator(MAX_BAND_ENROLLMENT)]
    )
    enrollment_9_12 = models.PositiveIntegerField(
        "enrollment 9–12", default=0, validators=[MaxValueValidator(MAX_BAND_ENROLLMENT)]
    )
    enrollment_override = models.BooleanField(
        "typed enrollment overrides the roster",
        default=False,
        help_text="A roster sync computes enrollment per grade band from the school's active "
        "students. Tick this to keep the figures typed here instead.",
    )
    enrollment_synced_at = models.DateTimeField(
        "enrollment computed from the roster at", null=True, blank=True, editable=False
    )
    economically_disadvantaged_pct = models.DecimalField(
        "economically disadvantaged (%)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Share of students who are economically disadvantaged; equity views "
        "show schools with the highest need first.",
    )
    feeds_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fed_by",
        verbose_name="students leaving the top grade go to",
        help_text="The next school of the district's feeder pattern. At the year-end "
        "rollover, students in this school's top grade move there, one grade up. Leave "
        "empty when they leave the district's records (a last school, or no set pattern).",
    )

    objects = ScopedManager.from_queryset(SchoolQuerySet)("pk")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="school_code_unique"),
            models.CheckConstraint(
                condition=Q(lowest_grade__lte=F("highest_grade")), name="school_grade_span"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("schools:school_detail", args=[self.pk])

    @property
    def grade_span(self) -> str:
        return f"{self.get_lowest_grade_display()}–{self.get_highest_grade_display()}"

    @property
    def enrollment(self) -> int:
        return sum(getattr(self, name) for name, *_ in GRADE_BANDS)

    def enrollment_by_band(self) -> list[tuple[str, int]]:
        return [
            (label, getattr(self, name)) for name, label, *_ in GRADE_BANDS if self.serves(name)
        ]

    @property
    def enrollment_from_roster(self) -> bool:
        """Whether the band figures are counts of active students (else typed by hand)."""
        return self.enrollment_synced_at is not None and not self.enrollment_override

    def serves(self, band_field: str) -> bool:
        """Whether the school's grade span overlaps a grade band."""
        for name, _label, low, high in GRADE_BANDS:
            if name == band_field:
                return self.lowest_grade <= high and self.highest_grade >= low
        raise ValueError(band_field)

    def device_target(self) -> int:
        return device_target(self.enrollment, self.district.device_planning_ratio)

    def clean(self):
        errors = {}
        if (
            self.lowest_grade is not None
            and self.highest_grade is not None
            and self.lowest_grade > self.highest_grade
        ):
            errors["highest_grade"] = "The highest grade cannot be below the lowest grade."
        else:
            for name, label, *_ in GRADE_BANDS:
                if getattr(self, name) and not self.serves(name):
                    errors[name] = f"This school does not serve grades {label}; enter 0."
            feeder_error = self.feeder_problem()
            if feeder_error:
                errors["feeds_into"] = feeder_error
            fed_from = self.grades_fed_from_outside_span()
            if fed_from is not None:
                # Named by grade only: the feeding school may be one this editor cannot see.
                errors["lowest_grade"] = (
                    "Another school of the district sends the students leaving its grade "
                    f"{Grade(fed_from).label} here, so this school must teach grade "
                    f"{Grade(fed_from + 1).label}. Change the feeder pattern first."
                )
        if errors:
            raise ValidationError(errors)

    def grades_fed_from_outside_span(self) -> int | None:
        """The top grade of a school feeding into this one whose next grade this school
        would no longer teach, or None (one query, outside the scope: any school counts)."""
        if self.pk is None:
            return None
        tops = School.unscoped.filter(feeds_into_id=self.pk).values_list("highest_grade", flat=True)
        for top in sorted(set(tops)):
            if not self.lowest_grade <= top + 1 <= self.highest_grade:
                return top
        return None

    def feeder_problem(self, feeder: School | None = None) -> str:
        """Why ``feeder`` (this school's own by default) cannot take its top grade, or ""."""
        feeder = self.feeds_into if feeder is None and self.feeds_into_id else feeder
        if feeder is None:
            return ""
        if self.pk is not None and feeder.pk == self.pk:
            return "A school cannot feed into itself."
        if feeder.district_id != self.district_id:
            return "The next school must belong to the same district."
        if self.highest_grade >= Grade.G12:
            return "Students leaving grade 12 graduate; there is no next school."
        nxt = Grade(self.highest_grade + 1)
        if not feeder.lowest_grade <= nxt <= feeder.highest_grade:
            return (
                f"{feeder.name} teaches grades {feeder.grade_span}, so it cannot take "
                f"students moving up from grade {self.get_highest_grade_display()} into "
                f"grade {nxt.label}."
            )
        return ""


class MembershipManager(ScopedManager):
    """A membership is visible with its school; a district-wide one with its district."""

    def scope_q(self, state: dict) -> Q:
        return (
            Q(school__in=state[SCHOOL])
            | Q(district__in=state.get(WHOLE, ()))
            | Q(school__isnull=True, district__in=state[DISTRICT])
        )


class Membership(models.Model):
    """A user's role at one school, or (school empty) across a whole district."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="memberships")
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipManager()

    class Meta:
        ordering = ["district", "school", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "school", "role"],
                condition=Q(school__isnull=False),
                name="membership_unique_at_school",
            ),
            models.UniqueConstraint(
                fields=["user", "district", "role"],
                condition=Q(school__isnull=True),
                name="membership_unique_district_wide",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.DISTRICT_ADMIN) | Q(school__isnull=True),
                name="district_admin_is_district_wide",
            ),
        ]

    def __str__(self) -> str:
        where = self.school.name if self.school_id else f"all of {self.district.name}"
        return f"{self.user} — {self.get_role_display()}, {where}"

    @property
    def place(self) -> str:
        return self.school.name if self.school_id else "Whole district"

    def clean(self):
        if self.school_id and self.district_id and self.school.district_id != self.district_id:
            raise ValidationError({"school": "This school belongs to another district."})
        if self.role == Role.DISTRICT_ADMIN and self.school_id:
            raise ValidationError({"school": "A district admin serves the whole district."})


class Position(models.TextChoices):
    TEACHER = "teacher", "Teacher"
    SPECIAL_EDUCATION = "special_education", "Special education teacher"
    LIBRARIAN = "librarian", "Librarian / media specialist"
    INSTRUCTIONAL_COACH = "instructional_coach", "Instructional coach"
    COUNSELOR = "counselor", "Counselor"
    ADMINISTRATOR = "administrator", "Administrator"
    PARAPROFESSIONAL = "paraprofessional", "Paraprofessional"
    SUPPORT = "support", "Support staff"
    OTHER = "other", "Other"


# Staff whose PD hours count toward the district's per-teacher target.
TEACHING_POSITIONS = frozenset({Position.TEACHER, Position.SPECIAL_EDUCATION, Position.LIBRARIAN})


class StaffQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def teaching(self):
        return self.filter(position__in=TEACHING_POSITIONS)


class StaffMember(EditGuard, models.Model):
    """A person on a school's roster. PD attendees are staff; few of them have an account."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="staff")
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    position = models.CharField(max_length=30, choices=Position.choices, default=Position.TEACHER)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_records",
    )
    active = models.BooleanField(default=True, help_text="Clear when the person leaves.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager.from_queryset(StaffQuerySet)("school")

    class Meta:
        ordering = ["full_name"]
        indexes = [
            # A district's staff in name order, a page at a time (the type-ahead's first
            # choices of facilitators and leaders): walked in order and stopped at the
            # page's end, where a sort read all 71,000 staff of a 1,000,000-student district.
            models.Index(fields=["full_name", "id"], name="staff_by_name"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "email"],
                condition=~Q(email=""),
                name="staff_email_unique_per_school",
                violation_error_message="Someone on this roster already has this e-mail address.",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def is_teaching(self) -> bool:
        return self.position in TEACHING_POSITIONS
