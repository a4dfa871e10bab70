"""The shapes the API reads and writes. Reads name the fields a page shows (students: the
pseudonymous ones only); writes are parsed here and done by the apps' services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from equity.inventory.models import (
    Assignment,
    Circumstance,
    Device,
    DeviceEvent,
    DeviceModel,
    ReturnCondition,
    Student,
)
from initiatives.models import BudgetLine, Initiative, Milestone
from pd.models import Attendance, AttendanceStatus, PDSession
from readiness.models import Snapshot
from schools.funding import FundingSource
from schools.models import School
from stakeholders.models import Survey

# --- schools ------------------------------------------------------------------------------


class SchoolSerializer(serializers.ModelSerializer):
    enrollment = serializers.IntegerField(read_only=True)
    device_target = serializers.SerializerMethodField()

    class Meta:
        model = School
        fields = [
            "id",
            "district",
            "name",
            "code",
            "lowest_grade",
            "highest_grade",
            "enrollment_pk_2",
            "enrollment_3_5",
            "enrollment_6_8",
            "enrollment_9_12",
            "enrollment",
            "device_target",
            "economically_disadvantaged_pct",
        ]

    def get_device_target(self, school) -> int:
        return school.device_target()


# --- equity --------------------------------------------------------------------------------


class DeviceModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceModel
        fields = [
            "id",
            "district",
            "maker",
            "name",
            "kind",
            "touchscreen",
            "unit_price",
            "auto_update_expiration",
        ]


class DeviceSerializer(serializers.ModelSerializer):
    model_name = serializers.CharField(source="model.name", read_only=True)
    kind = serializers.CharField(source="model.kind", read_only=True)
    updates_until = serializers.DateField(source="aue", read_only=True, allow_null=True)
    funding_source = serializers.ChoiceField(
        choices=FundingSource.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Device
        fields = [
            "id",
            "school",
            "model",
            "model_name",
            "kind",
            "asset_tag",
            "serial_number",
            "maker",
            "status",
            "purchase_date",
            "funding_source",
            "updates_until",
            "updated_at",
        ]
        read_only_fields = fields


class DeviceCreateSerializer(serializers.Serializer):
    """A new device: the fields of the device form; ``device_create`` checks the rest."""

    school = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    model = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    asset_tag = serializers.CharField(max_length=64)
    serial_number = serializers.CharField(max_length=100)
    purchase_date = serializers.DateField(required=False, allow_null=True)
    funding_source = serializers.ChoiceField(
        choices=FundingSource.choices, required=False, allow_blank=True
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class DeviceNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ReportLostSerializer(DeviceNoteSerializer):
    circumstance = serializers.ChoiceField(
        choices=[c for c in Circumstance.choices if c[0] != Circumstance.STOLEN]
    )
    place = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class ReportStolenSerializer(DeviceNoteSerializer):
    place = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class StudentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Student
        # Pseudonymous: the district's own ID, grade and flags; never a name or contact.
        fields = ["id", "school", "local_id", "grade", "needs_touch", "home_internet", "active"]
        read_only_fields = fields


class AssignmentSerializer(serializers.ModelSerializer):
    asset_tag = serializers.CharField(source="device.asset_tag", read_only=True)
    student_local_id = serializers.CharField(source="student.local_id", read_only=True)
    school = serializers.IntegerField(source="device.school_id", read_only=True)
    condition_on_return = serializers.ChoiceField(
        choices=ReturnCondition.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Assignment
        fields = [
            "id",
            "device",
            "asset_tag",
            "student",
            "student_local_id",
            "school",
            "is_hotspot",
            "checked_out_at",
            "checked_in_at",
            "condition_on_return",
            "charger_missing",
            "return_note",
        ]
        read_only_fields = fields


class CheckOutSerializer(serializers.Serializer):
    """Check a device out to a student: by ids, or by asset tag and local student ID."""

    device = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    asset_tag = serializers.CharField(max_length=64, required=False)
    student = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    student_id = serializers.CharField(
        max_length=40, required=False, help_text="The local student ID."
    )

    def validate(self, data):
        errors = {}
        if not data.get("device") and not data.get("asset_tag"):
            errors["asset_tag"] = "Give the device (its id) or its asset tag."
        if not data.get("student") and not data.get("student_id"):
            errors["student_id"] = "Give the student (their id) or their local student ID."
        if errors:
            raise serializers.ValidationError(errors)
        return data


class CheckInSerializer(serializers.Serializer):
    condition = serializers.ChoiceField(
        choices=ReturnCondition.choices, default=ReturnCondition.GOOD
    )
    charger_missing = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class DeviceEventSerializer(serializers.ModelSerializer):
    circumstance = serializers.ChoiceField(
        choices=Circumstance.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = DeviceEvent
        fields = ["id", "device", "kind", "at", "school", "student", "circumstance", "note"]
        read_only_fields = fields


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "08:30:00"}
)
class LocalTimeField(serializers.TimeField):
    """A time of day in the district's zone, without an offset (OpenAPI's ``time`` format
    would demand one)."""


# --- PD -----------------------------------------------------------------------------------


class AttendanceSerializer(serializers.ModelSerializer):
    staff_name = serializers.CharField(source="staff.full_name", read_only=True)
    school = serializers.IntegerField(source="staff.school_id", read_only=True)

    class Meta:
        model = Attendance
        fields = ["id", "staff", "staff_name", "school", "status", "hours", "checked_in_at"]
        read_only_fields = fields


class PDSessionSerializer(serializers.ModelSerializer):
    start_time = LocalTimeField(read_only=True, allow_null=True)
    schools = serializers.SerializerMethodField()
    pillars = serializers.SerializerMethodField()

    class Meta:
        model = PDSession
        fields = [
            "id",
            "title",
            "date",
            "start_time",
            "duration_minutes",
            "format",
            "job_embedded",
            "ongoing_series",
            "objective",
            "schools",
            "pillars",
            "initiative",
        ]
        read_only_fields = fields

    def get_schools(self, session) -> list[int]:
        return [s.pk for s in session.schools.all()]

    def get_pillars(self, session) -> list[str]:
        return [p.pillar for p in session.pillars.all()]


class PDSessionDetailSerializer(PDSessionSerializer):
    attendance = AttendanceSerializer(many=True, read_only=True, source="shown_attendance")

    class Meta(PDSessionSerializer.Meta):
        fields = [*PDSessionSerializer.Meta.fields, "attendance"]
        read_only_fields = fields


class AttendanceRowSerializer(serializers.Serializer):
    attendance = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    hours = serializers.DecimalField(
        max_digits=4, decimal_places=2, required=False, allow_null=True, min_value=0
    )


class AttendanceUpdateSerializer(serializers.Serializer):
    rows = AttendanceRowSerializer(many=True, allow_empty=False, max_length=1000)


# --- surveys ------------------------------------------------------------------------------


class SurveySerializer(serializers.ModelSerializer):
    schools = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()

    class Meta:
        model = Survey
        fields = [
            "id",
            "title",
            "purpose",
            "opens_on",
            "closes_on",
            "closed_on",
            "status",
            "anonymous",
            "initiative",
            "schools",
        ]
        read_only_fields = fields

    def get_schools(self, survey) -> list[int]:
        return [s.pk for s in survey.schools.all()]

    def get_status(self, survey) -> str:
        return survey.status()


# --- initiatives --------------------------------------------------------------------------


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "title", "due_on", "owner", "done_on"]
        read_only_fields = fields


class BudgetLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = BudgetLine
        fields = ["id", "category", "description", "amount", "funding_source", "stage"]
        read_only_fields = fields


class InitiativeSerializer(serializers.ModelSerializer):
    schools = serializers.SerializerMethodField()
    pillars = serializers.SerializerMethodField()
    milestones = MilestoneSerializer(many=True, read_only=True)
    budget_lines = BudgetLineSerializer(many=True, read_only=True)

    class Meta:
        model = Initiative
        fields = [
            "id",
            "district",
            "title",
            "status",
            "why",
            "learning_goals",
            "success_measures",
            "whole_district",
            "involves_devices",
            "schools",
            "pillars",
            "milestones",
            "budget_lines",
            "updated_at",
        ]
        read_only_fields = fields

    def get_schools(self, initiative) -> list[int]:
        return [s.pk for s in initiative.schools.all()]

    def get_pillars(self, initiative) -> list[str]:
        return [p.pillar for p in initiative.pillars.all()]


# --- readiness ----------------------------------------------------------------------------


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Snapshot
        fields = ["id", "school", "computed_at", "confirmed_at", "as_of", "overall", "pillars"]
        read_only_fields = fields


class SnapshotDetailSerializer(SnapshotSerializer):
    class Meta(SnapshotSerializer.Meta):
        fields = [*SnapshotSerializer.Meta.fields, "indicators"]
        read_only_fields = fields
