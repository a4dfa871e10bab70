"""The resources of /api/v1/. Each viewset reads through the scoped managers (the caller's
scope, activated by ``api.base.ScopedViewSet``), asks the same capability as its page, and
writes through the owning app's service, so history, evidence and validation are the
pages' own.

Why one long module: one viewset per resource, each a few lines over the shared base, read
side by side with the table of routes in docs/api.md.
"""

from __future__ import annotations

import hashlib
import json

from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from equity.inventory import services as inventory
from equity.inventory.coverage import school_coverage
from equity.inventory.filters import narrow
from equity.inventory.models import Assignment, Device, DeviceEvent, DeviceModel, Student
from equity.permissions import can_handle_devices, can_read_inventory
from initiatives.models import BudgetLine, Initiative, Milestone
from pd import selectors as pd_selectors
from pd import services as pd_services
from pd.models import PDSession, SessionPillar
from pd.permissions import can_use_pd
from readiness.models import Snapshot
from readiness.permissions import can_read_readiness
from schools.models import School
from schools.permissions import schools_for
from stakeholders import selectors as survey_selectors
from stakeholders.models import Survey
from stakeholders.permissions import can_run_surveys

from . import filters
from . import serializers as s
from .base import ScopedViewSet
from .pagination import cursor
from .results import survey_results

# --- helpers -------------------------------------------------------------------------------


def _narrowed(queryset, access, capability, field: str = "school_id"):
    """``queryset`` limited to the schools where the caller holds ``capability`` (on top of
    the scope, as the pages' lists: a coach at Maple who is tech staff at Cedar sees
    Cedar's devices only)."""
    return narrow(queryset, access, schools_for(access, capability), field)


class SchoolRows:
    """A viewset of rows that each belong to one school (through ``school_field``): its list
    is narrowed to the schools where the caller holds ``list_capability``, and one row is
    read only where they hold it."""

    school_field = "school_id"

    def narrowed(self, queryset):
        if self.action != "list":
            return queryset
        return _narrowed(queryset, self.request.access, self.list_capability, self.school_field)

    def retrieve(self, request, *args, **kwargs):
        row = self.get_object()
        school = row
        for step in self.school_field.split("__"):
            school = getattr(school, step)
        self.list_capability.require(request.access, school=school)
        return Response(self.get_serializer(row).data)


def _etagged(request, data) -> Response:
    """200 with an ETag over the body, or 304 when the client already holds it."""
    body = json.dumps(data, sort_keys=True, default=str).encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    match = request.headers.get("If-None-Match", "")
    if etag in {tag.strip() for tag in match.split(",")} or match.strip() == "*":
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(data, headers={"ETag": etag})


ETAG_PARAMETER = OpenApiParameter(
    "If-None-Match",
    location=OpenApiParameter.HEADER,
    required=False,
    description="The ETag of the copy you hold: 304 Not Modified when it is still current.",
)
COVERAGE = inline_serializer(
    "Coverage",
    {
        "school_id": serializers.IntegerField(),
        "school": serializers.CharField(allow_null=True, help_text="The school's code."),
        "enrollment": serializers.IntegerField(),
        "target": serializers.IntegerField(),
        "usable": serializers.IntegerField(),
        "gap": serializers.IntegerField(),
        "short": serializers.IntegerField(),
        "spare": serializers.IntegerField(),
        "touch_target": serializers.IntegerField(),
        "touch_usable": serializers.IntegerField(),
        "touch_gap": serializers.IntegerField(),
        "touch_short": serializers.IntegerField(),
        "touch_spare": serializers.IntegerField(),
        "no_home_internet": serializers.IntegerField(),
        "hotspots_assigned": serializers.IntegerField(),
        "homework_gap": serializers.IntegerField(),
        "expiring_12m": serializers.IntegerField(),
        "loss_rate_12m": serializers.FloatField(allow_null=True),
        "status_counts": serializers.DictField(child=serializers.IntegerField()),
    },
)


def _coverage_json(row) -> dict:
    return {
        "school_id": row.school.pk,
        **row.as_json(),
        "status_counts": dict(row.status_counts),
    }


# --- schools, readiness, coverage ----------------------------------------------------------


class SchoolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The schools of the caller's scope, with enrollment and device target."""

    model = School
    serializer_class = s.SchoolSerializer
    pagination_class = cursor("pk")

    def scoped_queryset(self):
        return School.objects.with_enrollment().select_related("district")

    @extend_schema(parameters=[ETAG_PARAMETER], responses=s.SnapshotDetailSerializer)
    @action(detail=True, url_path="readiness")
    def readiness(self, request, pk=None):
        """The school's latest readiness snapshot: overall, pillars and indicators (ETag)."""
        school = self.get_object()
        can_read_readiness.require(request.access, school=school)
        latest = Snapshot.objects.filter(school=school).order_by("-computed_at", "-pk").first()
        if latest is None:
            return Response({"detail": "No readiness score yet."}, status=404)
        return _etagged(request, s.SnapshotDetailSerializer(latest).data)

    @extend_schema(responses=s.SnapshotSerializer(many=True))
    @action(
        detail=True,
        url_path="readiness/history",
        pagination_class=cursor("-computed_at", "-pk"),
    )
    def readiness_history(self, request, pk=None):
        """Every stored readiness snapshot of the school, newest first (scores only)."""
        school = self.get_object()
        can_read_readiness.require(request.access, school=school)
        snapshots = Snapshot.objects.filter(school=school).defer("indicators")
        page = self.paginate_queryset(snapshots)
        return self.get_paginated_response(s.SnapshotSerializer(page, many=True).data)

    @extend_schema(parameters=[ETAG_PARAMETER], responses=COVERAGE)
    @action(detail=True, url_path="coverage")
    def coverage(self, request, pk=None):
        """Device coverage against the target (110% of enrollment by default) (ETag)."""
        school = self.get_object()
        can_read_inventory.require(request.access, school=school)
        (row,) = school_coverage(School.objects.filter(pk=school.pk))
        return _etagged(request, _coverage_json(row))


# --- equity --------------------------------------------------------------------------------


class DeviceModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The device catalogs of the caller's districts."""

    model = DeviceModel
    list_capability = can_read_inventory
    serializer_class = s.DeviceModelSerializer
    pagination_class = cursor("pk")

    def scoped_queryset(self):
        access = self.request.access
        models = DeviceModel.objects.all()
        if access.unrestricted:
            return models
        districts = [d for d in access.district_ids if can_read_inventory.in_district(access, d)]
        return models.filter(district_id__in=districts)

    def retrieve(self, request, *args, **kwargs):
        device_model = self.get_object()
        can_read_inventory.require_in_district(request.access, device_model.district_id)
        return Response(self.get_serializer(device_model).data)


class DeviceViewSet(
    SchoolRows,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    ScopedViewSet,
):
    """Devices, filtered by school, status, model or the start of the asset tag."""

    model = Device
    list_capability = can_read_inventory
    serializer_class = s.DeviceSerializer
    pagination_class = cursor("asset_tag")
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.DeviceFilterSet

    def scoped_queryset(self):
        access = self.request.access
        devices = Device.objects.select_related("model")
        if self.action != "list":
            return devices
        ids = schools_for(access, can_read_inventory)
        if ids is None:
            return devices
        # Saying the district lets PostgreSQL read the page from an index led by it
        # (equity.inventory.views._inventory_queryset does the same).
        districts = {access.school_district[i] for i in ids if i in access.school_district}
        return narrow(devices.filter(district_id__in=districts), access, ids)

    @extend_schema(request=s.DeviceCreateSerializer, responses={201: s.DeviceSerializer})
    def create(self, request, *args, **kwargs):
        """Add a device to a school (the device form's rules: tag and serial unique)."""
        data = self._valid(s.DeviceCreateSerializer)
        school = School.objects.filter(pk=data["school"]).first()
        if school is None:
            return Response({"school": ["No such school."]}, status=400)
        can_handle_devices.require(request.access, school=school)
        catalog = DeviceModel.objects.filter(district_id=school.district_id)
        device_model = catalog.filter(pk=data["model"]).first()
        if device_model is None:
            return Response({"model": ["This model is not in the district's catalog."]}, 400)
        device = inventory.device_create(
            school=school,
            model=device_model,
            by=request.user,
            asset_tag=data["asset_tag"],
            serial_number=data["serial_number"],
            purchase_date=data.get("purchase_date"),
            funding_source=data.get("funding_source", ""),
            notes=data.get("notes", ""),
        )
        self.audited(device, school)
        return Response(self.get_serializer(device).data, status=201)

    def _valid(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _act(self, run, serializer_class=s.DeviceNoteSerializer):
        device = self.get_object()
        can_handle_devices.require(self.request.access, school=device.school_id)
        data = self._valid(serializer_class)
        run(device, data)
        self.audited(device, device.school_id)
        device = Device.objects.select_related("model").get(pk=device.pk)
        return Response(self.get_serializer(device).data)

    @extend_schema(request=s.ReportLostSerializer, responses=s.DeviceSerializer)
    @action(detail=True, methods=["post"], url_path="report-lost")
    def report_lost(self, request, pk=None):
        return self._act(
            lambda d, data: inventory.device_report_missing(device=d, by=request.user, **data),
            s.ReportLostSerializer,
        )

    @extend_schema(request=s.ReportStolenSerializer, responses=s.DeviceSerializer)
    @action(detail=True, methods=["post"], url_path="report-stolen")
    def report_stolen(self, request, pk=None):
        return self._act(
            lambda d, data: inventory.device_report_missing(
                device=d, by=request.user, stolen=True, **data
            ),
            s.ReportStolenSerializer,
        )

    @extend_schema(request=s.DeviceNoteSerializer, responses=s.DeviceSerializer)
    @action(detail=True, methods=["post"], url_path="send-to-repair")
    def send_to_repair(self, request, pk=None):
        return self._act(
            lambda d, data: inventory.device_send_to_repair(device=d, by=request.user, **data)
        )

    @extend_schema(request=s.DeviceNoteSerializer, responses=s.DeviceSerializer)
    @action(detail=True, methods=["post"], url_path="back-from-repair")
    def back_from_repair(self, request, pk=None):
        return self._act(
            lambda d, data: inventory.device_return_from_repair(device=d, by=request.user, **data)
        )

    @extend_schema(request=s.DeviceNoteSerializer, responses=s.DeviceSerializer)
    @action(detail=True, methods=["post"], url_path="recovered")
    def recovered(self, request, pk=None):
        return self._act(
            lambda d, data: inventory.device_recover(device=d, by=request.user, **data)
        )


class StudentViewSet(SchoolRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Students, pseudonymous: the district's local ID, grade and flags, never a name."""

    model = Student
    list_capability = can_read_inventory
    serializer_class = s.StudentSerializer
    pagination_class = cursor("local_id")
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.StudentFilterSet

    def scoped_queryset(self):
        return self.narrowed(Student.objects.all())


class AssignmentViewSet(
    SchoolRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet
):
    """Who holds which device: check a device out (POST) and back in (its check-in)."""

    model = Assignment
    list_capability = can_read_inventory
    serializer_class = s.AssignmentSerializer
    pagination_class = cursor("-checked_out_at", "-pk")
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.AssignmentFilterSet

    school_field = "device__school_id"

    def scoped_queryset(self):
        return self.narrowed(Assignment.objects.select_related("device", "student"))

    @extend_schema(request=s.CheckOutSerializer, responses={201: s.AssignmentSerializer})
    def create(self, request, *args, **kwargs):
        """Check a device out to a student (the check-out desk's rules)."""
        serializer = s.CheckOutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        devices = Device.objects.select_related("model", "school")
        device = (
            devices.filter(pk=data["device"])
            if data.get("device")
            else devices.filter(asset_tag__iexact=data["asset_tag"].strip())
        ).first()
        if device is None:
            return Response({"asset_tag": ["No such device in your schools."]}, status=400)
        can_handle_devices.require(request.access, school=device.school_id)
        students = Student.objects.select_related("school")
        student = (
            students.filter(pk=data["student"])
            if data.get("student")
            else students.filter(district_id=device.district_id, local_id=data["student_id"])
        ).first()
        if student is None:
            return Response({"student_id": ["No such student in your schools."]}, status=400)
        assignment = inventory.device_check_out(device=device, student=student, by=request.user)
        self.audited(assignment, device.school_id)
        return Response(self.get_serializer(assignment).data, status=201)

    @extend_schema(request=s.CheckInSerializer, responses=s.AssignmentSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        """Take the device back; a damaged device goes straight to repair."""
        assignment = self.get_object()
        can_handle_devices.require(request.access, school=assignment.device.school_id)
        serializer = s.CheckInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if assignment.checked_in_at is not None:
            return Response({"non_field_errors": ["This assignment is already closed."]}, 400)
        data = serializer.validated_data
        inventory.device_check_in(
            device=assignment.device,
            by=request.user,
            condition=data["condition"],
            note=data["note"],
            charger_missing=data["charger_missing"],
        )
        self.audited(assignment, assignment.device.school_id)
        assignment = self.get_queryset().get(pk=assignment.pk)
        return Response(self.get_serializer(assignment).data)


class DeviceEventViewSet(
    SchoolRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet
):
    """Each device's history: check-outs, returns, losses, repairs, audits."""

    model = DeviceEvent
    list_capability = can_read_inventory
    serializer_class = s.DeviceEventSerializer
    pagination_class = cursor("-at", "-pk")
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.DeviceEventFilterSet

    def scoped_queryset(self):
        return self.narrowed(DeviceEvent.objects.all())


# --- PD ------------------------------------------------------------------------------------


class PDSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """PD sessions; one session's page carries its attendance (the caller's schools')."""

    model = PDSession
    list_capability = can_use_pd
    serializer_class = s.PDSessionSerializer
    pagination_class = cursor("-date", "-pk")

    def scoped_queryset(self):
        sessions = PDSession.objects.prefetch_related(
            Prefetch("schools", queryset=School.objects.order_by("pk")),
            Prefetch("pillars", queryset=SessionPillar.objects.order_by("pillar")),
        )
        if self.action != "list":
            return sessions
        ids = schools_for(self.request.access, can_use_pd)
        if ids is None:
            return sessions
        links = PDSession.schools.through.unscoped.filter(school_id__in=ids)
        return sessions.filter(pk__in=links.values("pdsession_id"))

    def _session(self) -> PDSession:
        session = self.get_object()
        can_use_pd.require_at_any(self.request.access, pd_selectors.session_schools(session))
        return session

    @extend_schema(responses=s.PDSessionDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        session = self._session()
        session.shown_attendance = list(pd_selectors.session_attendance(session))
        return Response(s.PDSessionDetailSerializer(session).data)

    @extend_schema(request=s.AttendanceUpdateSerializer, responses=s.PDSessionDetailSerializer)
    @action(detail=True, methods=["post"], url_path="attendance")
    def attendance(self, request, pk=None):
        """Set status and hours of attendance rows (absent and excused credit 0 hours)."""
        session = self._session()
        serializer = s.AttendanceUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = serializer.validated_data["rows"]
        shown = {a.pk: a for a in pd_selectors.session_attendance(session)}
        unknown = [r["attendance"] for r in rows if r["attendance"] not in shown]
        if unknown:
            return Response(
                {"rows": [f"No attendance {i} in this session's rows you see." for i in unknown]},
                status=400,
            )
        pd_services.attendance_update(
            session=session,
            rows=[(shown[r["attendance"]], r["status"], r.get("hours")) for r in rows],
            by=request.user,
        )
        self.audited(session)
        session.shown_attendance = list(pd_selectors.session_attendance(session))
        return Response(s.PDSessionDetailSerializer(session).data)


# --- surveys -------------------------------------------------------------------------------


class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Stakeholder surveys and their results, small groups hidden as on the results page."""

    model = Survey
    list_capability = can_run_surveys
    serializer_class = s.SurveySerializer
    pagination_class = cursor("-opens_on", "-pk")

    def scoped_queryset(self):
        surveys = Survey.objects.prefetch_related(
            Prefetch("schools", queryset=School.objects.order_by("pk"))
        )
        if self.action != "list":
            return surveys
        ids = schools_for(self.request.access, can_run_surveys)
        if ids is None:
            return surveys
        links = Survey.schools.through.unscoped.filter(school_id__in=ids)
        return surveys.filter(pk__in=links.values("survey_id"))

    def _survey(self) -> Survey:
        survey = self.get_object()
        can_run_surveys.require_at_any(self.request.access, list(survey.schools.all()))
        return survey

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self._survey()).data)

    @extend_schema(responses=survey_results.schema)
    @action(detail=True, url_path="results")
    def results(self, request, pk=None):
        """The results page as data: every group under the district's minimum is hidden
        (null), and so is any figure that would give one away."""
        survey = self._survey()
        return Response(survey_results(survey_selectors.results(survey)))


# --- initiatives ---------------------------------------------------------------------------


class InitiativeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Initiatives with their milestones and budget lines (everyone who sees one reads it)."""

    model = Initiative
    serializer_class = s.InitiativeSerializer
    pagination_class = cursor("-pk")

    def scoped_queryset(self):
        return Initiative.objects.prefetch_related(
            Prefetch("schools", queryset=School.objects.order_by("pk")),
            "pillars",
            Prefetch("milestones", queryset=Milestone.objects.order_by("due_on", "pk")),
            Prefetch("budget_lines", queryset=BudgetLine.objects.order_by("pk")),
        )
