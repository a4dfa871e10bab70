"""Device equity: the district's device catalog, every device and its history, students
(pseudonymous: a local ID, a grade and flags, never a name) and who holds what."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual, IsNull, LessThan
from django.urls import reverse
from django.utils import timezone

from schools.dates import shown_datetime
from schools.funding import FundingSource
from schools.models import District, Grade, School
from schools.scoping import DISTRICT, ScopedManager


class DeviceKind(models.TextChoices):
    CHROMEBOOK = "chromebook", "Chromebook"
    LAPTOP = "laptop", "Laptop"
    TABLET = "tablet", "Tablet"
    HOTSPOT = "hotspot", "Hotspot"
    OTHER = "other", "Other"


class DeviceModel(models.Model):
    """A make and model in the district's catalog."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="device_models")
    maker = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=20, choices=DeviceKind.choices, default=DeviceKind.CHROMEBOOK
    )
    touchscreen = models.BooleanField(default=False)
    unit_price = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    auto_update_expiration = models.DateField(
        null=True,
        blank=True,
        help_text="The last month the maker ships updates (Chromebooks publish an AUE date).",
    )

    objects = ScopedManager("district", dimension=DISTRICT)

    class Meta:
        ordering = ["maker", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "maker", "name"], name="device_model_unique_in_district"
            )
        ]

    def __str__(self) -> str:
        return f"{self.maker} {self.name}"


class DeviceStatus(models.TextChoices):
    IN_STOCK = "in_stock", "In stock"
    ASSIGNED = "assigned", "Assigned"
    IN_REPAIR = "in_repair", "In repair"
    LOST = "lost", "Lost"
    STOLEN = "stolen", "Stolen"
    RETIRED = "retired", "Retired"


# --- the usable-device rule -------------------------------------------------------------
#
# Usable = in stock or assigned, and not past its auto-update expiration. The expiration
# that applies is the device's own date when it has one (Google reports one per device, and
# devices sold under one model name can differ), else its model's; no date known counts as
# still supported. This is the one place the rule is written: coverage, readiness, the
# benchmark's SQL floor and check-out use it (tests/equity/inventory/test_usable.py).

USABLE_STATUSES = (DeviceStatus.IN_STOCK, DeviceStatus.ASSIGNED)


def applicable_expiration() -> Coalesce:
    """The auto-update expiration that applies to a device, as an expression."""
    return Coalesce("auto_update_expiration", "model__auto_update_expiration")


def supported_q(on: date) -> Q:
    """Devices whose updates still ship on ``on``, whatever their status."""
    expiration = applicable_expiration()
    return Q(IsNull(expiration, True)) | Q(GreaterThanOrEqual(expiration, on))


def usable_q(on: date) -> Q:
    """Devices that can serve a student on ``on``: a filter, or a ``Count(filter=...)``
    condition for set-based figures (``ExpressionWrapper(usable_q(on), BooleanField())``
    as an annotation)."""
    return Q(status__in=USABLE_STATUSES) & supported_q(on)


def expires_before(day: date) -> Q:
    """Devices whose updates stop before ``day`` (a device with no date never expires)."""
    return Q(LessThan(applicable_expiration(), day))


class DeviceQuerySet(models.QuerySet):
    def usable(self, on: date | None = None):
        """Devices that can serve a student on ``on`` (today by default)."""
        return self.filter(usable_q(on or timezone.localdate()))


class Device(models.Model):
    # No single-column indexes on district, school or status: each is the first column of
    # a composite index below (asset_tag_unique_in_district, device_school_status and the
    # district-led ones), which serves the same lookups; a million-row import maintains
    # every index, so the redundant ones only cost (docs/scale.md).
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="devices", db_index=False
    )
    model = models.ForeignKey(DeviceModel, on_delete=models.PROTECT, related_name="devices")
    asset_tag = models.CharField(max_length=64, help_text="Unique in the district.")
    serial_number = models.CharField(max_length=100, help_text="Unique per maker.")
    # Copied from the model so that "serial unique per maker" holds in the database.
    maker = models.CharField(max_length=100, editable=False)
    status = models.CharField(
        max_length=20, choices=DeviceStatus.choices, default=DeviceStatus.IN_STOCK
    )
    purchase_date = models.DateField(null=True, blank=True)
    funding_source = models.CharField(max_length=20, choices=FundingSource.choices, blank=True)
    notes = models.TextField(blank=True)
    auto_update_expiration = models.DateField(
        "auto-update expiration of this device",
        null=True,
        blank=True,
        help_text="This device's own date, as an import gave it (Google reports one per "
        "device); empty: the model's date applies.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager.from_queryset(DeviceQuerySet)("school", district="district")

    class Meta:
        ordering = ["asset_tag"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "asset_tag"], name="asset_tag_unique_in_district"
            ),
            models.UniqueConstraint(
                fields=["district", "maker", "serial_number"], name="serial_unique_per_maker"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "status"], name="device_school_status"),
            # The district admin's inventory (docs/scale.md): each filter and sort it offers
            # is read in order from an index led by the district, so a page of 50 never sorts
            # a million rows. The default sort uses the unique (district, asset_tag).
            models.Index(
                fields=["district", "status", "asset_tag"], name="device_district_status_tag"
            ),
            models.Index(
                fields=["district", "model", "asset_tag"], name="device_district_model_tag"
            ),
            # "Recently changed", and the coverage cache's change stamp (inventory/coverage.py).
            models.Index(fields=["district", "updated_at"], name="device_district_updated"),
        ]

    def __str__(self) -> str:
        return self.asset_tag

    def save(self, *args, **kwargs):
        # Bulk paths (imports) set maker and district themselves; bulk_create skips save().
        if self.model_id:
            self.maker = self.model.maker
        if self.school_id and not self.district_id:
            self.district_id = self.school.district_id
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("equity:device_detail", args=[self.pk])

    @property
    def aue(self):
        """The auto-update expiration that applies (``applicable_expiration`` for one device)."""
        return self.auto_update_expiration or self.model.auto_update_expiration

    def is_supported_on(self, day: date) -> bool:
        """Whether its updates still ship on ``day`` (``supported_q`` for one device)."""
        return self.aue is None or self.aue >= day


class HomeInternet(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNKNOWN = "unknown", "Unknown"


class LeaveReason(models.TextChoices):
    GRADUATED = "graduated", "Graduated"
    COMPLETED = "completed", "Completed the school's top grade"
    TRANSFERRED = "transferred", "Transferred"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Student(models.Model):
    """A student as Pillarwise knows them: a local ID, a grade and flags. No names."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students")
    local_id = models.CharField("local student ID", max_length=40)
    grade = models.SmallIntegerField(choices=Grade.choices)
    needs_touch = models.BooleanField(
        "needs a touchscreen", default=False, help_text="An accommodation calls for touch input."
    )
    home_internet = models.CharField(
        max_length=10, choices=HomeInternet.choices, default=HomeInternet.UNKNOWN
    )
    homeroom = models.CharField(max_length=40, blank=True)
    fee_waiver = models.BooleanField(
        "qualifies for a fee waiver",
        default=False,
        help_text="Device charges are waived (for example free or reduced-price meals).",
    )
    active = models.BooleanField(default=True)
    left_on = models.DateField(null=True, blank=True)
    leave_reason = models.CharField(max_length=20, choices=LeaveReason.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("school", district="district")

    class Meta:
        ordering = ["local_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "local_id"], name="student_id_unique_in_district"
            )
        ]
        indexes = [
            models.Index(fields=["school", "grade"], name="student_school_grade"),
            # The coverage cache's change stamp (equity/inventory/coverage.py).
            models.Index(fields=["district", "updated_at"], name="student_district_updated"),
        ]

    def __str__(self) -> str:
        return self.local_id

    def save(self, *args, **kwargs):
        if self.school_id and not self.district_id:
            self.district_id = self.school.district_id
        super().save(*args, **kwargs)


class ReturnCondition(models.TextChoices):
    GOOD = "good", "Good"
    WORN = "worn", "Worn but working"
    DAMAGED = "damaged", "Damaged"


class Assignment(models.Model):
    """A device in a student's hands, from check-out to check-in.

    One open assignment per device; per student, one computing device and one hotspot
    (a student without home internet needs both, which is the point of the homework gap).
    Both rules live in the database, so two simultaneous check-outs cannot both succeed.
    """

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="assignments")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="assignments")
    is_hotspot = models.BooleanField(default=False, editable=False)
    checked_out_at = models.DateTimeField()
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    condition_on_return = models.CharField(
        max_length=20, choices=ReturnCondition.choices, blank=True
    )
    charger_missing = models.BooleanField(default=False)
    return_note = models.CharField(max_length=300, blank=True)
    # The handout and collection days (equity/year/models.py) this assignment went through.
    handout_event = models.ForeignKey(
        "equity.StationEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    collection_event = models.ForeignKey(
        "equity.StationEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager("device__school", district="device__district")

    class Meta:
        ordering = ["-checked_out_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(checked_in_at__isnull=True),
                name="one_open_assignment_per_device",
            ),
            models.UniqueConstraint(
                fields=["student", "is_hotspot"],
                condition=Q(checked_in_at__isnull=True),
                name="one_open_assignment_per_student_and_kind",
            ),
        ]
        indexes = [
            # Readiness's home connectivity joins every active student to an open hotspot
            # assignment: a few percent of the rows, read from this small index rather than
            # a scan of every assignment ever made.
            models.Index(
                fields=["student"],
                condition=Q(is_hotspot=True, checked_in_at__isnull=True),
                name="assignment_open_hotspot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} → {self.student_id}"

    @property
    def is_open(self) -> bool:
        return self.checked_in_at is None


class EventKind(models.TextChoices):
    CREATED = "created", "Added to inventory"
    CHECK_OUT = "check_out", "Checked out"
    CHECK_IN = "check_in", "Checked in"
    LOST = "lost", "Reported lost"
    STOLEN = "stolen", "Reported stolen"
    RECOVERED = "recovered", "Recovered"
    REPAIR_SENT = "repair_sent", "Sent for repair"
    REPAIR_RETURNED = "repair_returned", "Back from repair"
    AUDIT_SEEN = "audit_seen", "Seen in an audit"
    MOVED = "moved", "Moved to another school"
    ARRIVED = "arrived", "Arrived from another school"
    RETIRED = "retired", "Retired"
    # Its holder's student record was purged: back in stock, naming no one.
    RELEASED = "released", "Back in stock (holder's record removed)"
    # Something done to the device in Google Admin (googlesync): who asked, Google's answer.
    GOOGLE = "google", "Google Admin"


class Circumstance(models.TextChoices):
    LEFT_ON_TRANSIT = "left_on_transit", "Left on public transit"
    STOLEN = "stolen", "Stolen"
    DAMAGED = "damaged", "Damaged"
    OTHER = "other", "Other"


class DeviceEvent(models.Model):
    """One thing that happened to a device. Written once, never changed or deleted."""

    # Every index here is one a page or a rule reads (docs/imports.md, "Indexes"): the
    # device and school keys are the first columns of event_device_at and
    # event_school_kind_at, and most events have no author (imports by command, seeds) or
    # student, so those two are indexed only where set.
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField(db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where the device was.",
        db_index=False,
    )
    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    circumstance = models.CharField(max_length=20, choices=Circumstance.choices, blank=True)
    place = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)

    # An event belongs to the school where it happened: a device moved from Maple to Cedar
    # shows Cedar's staff what happened at Cedar (from its arrival), not Maple's students.
    objects = ScopedManager("device__school", district="device__district", concerns="school")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["school", "kind", "at"], name="event_school_kind_at"),
            models.Index(fields=["device", "at"], name="event_device_at"),
            models.Index(
                fields=["student"], condition=Q(student__isnull=False), name="event_student"
            ),
            models.Index(fields=["by"], condition=Q(by__isnull=False), name="event_by"),
            # The loss report (inventory/losses.py) and its change stamp, read index-only:
            # the losses alone (a fraction of a percent of the events), with what the report
            # counts, so neither visits the table's pages.
            models.Index(
                fields=["school", "at"],
                include=["device", "circumstance", "place", "id"],
                condition=Q(kind__in=["lost", "stolen"]),
                name="event_losses",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {shown_datetime(self.at)}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("Device history is never rewritten; record a new event instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Device history is never deleted.")
