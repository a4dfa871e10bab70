"""The device year: handout and collection days, the device agreement and its acceptances,
repair and loss charges, and the record of each year-end rollover (docs/equity.md).
"""

from __future__ import annotations

import secrets
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format

from equity.inventory.models import Student
from schools import numbers
from schools.models import District, Grade, School
from schools.scoping import DISTRICT, ScopedManager

# A signature drawn on the station's canvas is a small PNG; anything larger is not one.
MAX_SIGNATURE_BYTES = 200_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def school_year_of(day: date) -> str:
    """The school year a day belongs to, "2026-27" for 2026-07-01 through 2027-06-30."""
    start = day.year if day.month >= 7 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


class StationKind(models.TextChoices):
    HANDOUT = "handout", "Handout"
    COLLECTION = "collection", "Collection"


class StationEvent(models.Model):
    """A handout or collection day at one school, for some grades (none listed: all)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="station_events")
    kind = models.CharField(max_length=12, choices=StationKind.choices)
    name = models.CharField(max_length=120, help_text='For example "Grade 6 handout".')
    day = models.DateField()
    grades = models.JSONField(
        default=list, blank=True, help_text="The grades expected; empty means every grade."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager("school")

    class Meta:
        ordering = ["-day", "name"]

    def __str__(self) -> str:
        return f"{self.name}, {date_format(self.day)}"

    def save(self, *args, **kwargs):
        self.full_clean(exclude=["created_by"])
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        name = "handout_station" if self.kind == StationKind.HANDOUT else "collection_station"
        return reverse(f"equity:{name}", args=[self.pk])

    def clean(self):
        valid = set(Grade.values)
        if not isinstance(self.grades, list) or any(g not in valid for g in self.grades):
            raise ValidationError({"grades": "Choose grades from the list."})
        if self.school_id and self.grades:
            outside = [
                g
                for g in self.grades
                if not self.school.lowest_grade <= g <= self.school.highest_grade
            ]
            if outside:
                labels = ", ".join(Grade(g).label for g in outside)
                raise ValidationError({"grades": f"{self.school} does not teach grade {labels}."})

    @property
    def grade_labels(self) -> str:
        return ", ".join(Grade(g).label for g in sorted(self.grades)) or "every grade"

    def students(self):
        """The active students this day is for."""
        students = Student.objects.filter(school_id=self.school_id, active=True)
        return students.filter(grade__in=self.grades) if self.grades else students


class DeviceAgreement(models.Model):
    """The district's device agreement. A new text is a new version; old ones stay, since
    every acceptance points at the version that was accepted."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    title = models.CharField(max_length=200, default="Student device agreement")
    text = models.TextField()
    published_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["district", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "version"], name="agreement_version_unique_in_district"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"

    @classmethod
    def current(cls, district_id: int) -> DeviceAgreement | None:
        return cls.objects.filter(district_id=district_id).order_by("-version").first()


class AcceptanceMethod(models.TextChoices):
    SIGNED = "signed", "Signed at the station"
    LINK = "link", "Acknowledged through the link"


class Signer(models.TextChoices):
    STUDENT = "student", "Student"
    FAMILY = "family", "Parent or guardian"


class Acceptance(models.Model):
    """An assignment's acceptance of the agreement: pending (a link was made) or accepted.

    ``signature`` holds the PNG drawn at the station; it is served only through a scoped
    view, so it needs no public media storage.
    """

    assignment = models.OneToOneField(
        "equity.Assignment", on_delete=models.CASCADE, related_name="acceptance"
    )
    agreement = models.ForeignKey(DeviceAgreement, on_delete=models.PROTECT, related_name="+")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    method = models.CharField(max_length=10, choices=AcceptanceMethod.choices, blank=True)
    signer = models.CharField(max_length=10, choices=Signer.choices, blank=True)
    signature = models.BinaryField(null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager("assignment__device__school")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | ~Q(method=""),
                name="accepted_acceptance_has_method",
            ),
            models.CheckConstraint(
                condition=~Q(method="signed") | Q(signature__isnull=False),
                name="signed_acceptance_has_signature",
            ),
        ]

    def __str__(self) -> str:
        return f"Acceptance of {self.agreement} for assignment {self.assignment_id}"

    def save(self, *args, **kwargs):
        self.clean()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("equity:accept", args=[self.token])

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None

    def clean(self):
        if self.method == AcceptanceMethod.SIGNED:
            data = bytes(self.signature or b"")
            if not data.startswith(PNG_MAGIC) or len(data) > MAX_SIGNATURE_BYTES:
                raise ValidationError({"signature": "The signature could not be read; sign again."})
        if self.accepted_at and not self.method:
            raise ValidationError("Say how the agreement was accepted.")


class DamageKind(models.TextChoices):
    SCREEN = "screen", "Broken screen"
    KEYBOARD = "keyboard", "Keyboard or trackpad"
    OTHER_DAMAGE = "other_damage", "Other damage"
    CHARGER = "charger", "Missing charger"
    LOSS = "loss", "Lost device"


class PriceListEntry(models.Model):
    """What the district charges for one kind of damage; for one model, or (model left
    empty) for every model without its own line."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=DamageKind.choices)
    device_model = models.ForeignKey(
        "equity.DeviceModel", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    amount = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["kind", "device_model"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "kind", "device_model"],
                condition=Q(device_model__isnull=False),
                name="price_unique_per_model",
            ),
            models.UniqueConstraint(
                fields=["district", "kind"],
                condition=Q(device_model__isnull=True),
                name="price_unique_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {numbers.money(self.amount)}"

    def clean(self):
        if self.device_model_id and self.device_model.district_id != self.district_id:
            raise ValidationError({"device_model": "This model is not in the district's catalog."})


class ChargeStatus(models.TextChoices):
    DUE = "due", "Due"
    PAID = "paid", "Paid"
    WAIVED = "waived", "Waived"


class Charge(models.Model):
    """A charge for damage or loss. It informs; it never keeps a device from a student."""

    device = models.ForeignKey("equity.Device", on_delete=models.PROTECT, related_name="charges")
    student = models.ForeignKey("equity.Student", on_delete=models.PROTECT, related_name="charges")
    assignment = models.ForeignKey(
        "equity.Assignment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=DamageKind.choices)
    amount = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    status = models.CharField(
        max_length=10, choices=ChargeStatus.choices, default=ChargeStatus.DUE, db_index=True
    )
    note = models.CharField(max_length=300, blank=True)
    resolution_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager("device__school")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["student", "created_at"], name="charge_student_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="due") | Q(resolved_at__isnull=False),
                name="resolved_charge_has_date",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} {numbers.money(self.amount)} ({self.get_status_display()})"
        )

    def save(self, *args, **kwargs):
        self.clean()
        super().save(*args, **kwargs)

    def clean(self):
        if self.student_id and self.device_id and self.student.school_id != self.device.school_id:
            raise ValidationError("The device and the student belong to different schools.")
        if self.status == ChargeStatus.WAIVED and not self.resolution_note.strip():
            raise ValidationError({"resolution_note": "Say why the charge is waived."})


class RolloverRun(models.Model):
    """One year-end rollover of a district: once per school year, kept as history."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school_year = models.CharField(max_length=7, help_text="The year that ended, e.g. 2026-27.")
    ran_at = models.DateTimeField()
    ran_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    promoted = models.PositiveIntegerField(default=0)
    leavers = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["-ran_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "school_year"], name="one_rollover_per_school_year"
            )
        ]

    def __str__(self) -> str:
        return f"Rollover {self.school_year}"
