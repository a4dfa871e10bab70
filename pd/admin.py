from django.contrib import admin

from schools.admin import EvidenceAdmin

from . import hours as kept_hours
from .models import (
    Attendance,
    Feedback,
    LearningLeader,
    PDNeedsPoll,
    PDNeedsResponse,
    PDSession,
    PDSessionChange,
    SessionPillar,
)


class PillarInline(admin.TabularInline):
    model = SessionPillar
    extra = 0


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0
    raw_id_fields = ["staff"]


@admin.register(PDSession)
class PDSessionAdmin(EvidenceAdmin):
    evidence = "schools__district_id"
    list_display = ["title", "date", "format", "job_embedded", "ongoing_series"]
    list_filter = ["format", "job_embedded", "ongoing_series"]
    search_fields = ["title"]
    raw_id_fields = ["facilitator_user", "facilitator_staff", "created_by"]
    inlines = [PillarInline, AttendanceInline]

    # Attendance edited here, or gone with a deleted session, is counted again in the kept
    # hours (pd.hours), as every service that writes attendance does.
    def _attendees(self, session_ids) -> set[int]:
        rows = Attendance.unscoped.filter(session_id__in=list(session_ids))
        return set(rows.values_list("staff_id", flat=True))

    def save_related(self, request, form, formsets, change):
        before = self._attendees([form.instance.pk]) if change else set()
        super().save_related(request, form, formsets, change)
        kept_hours.staff_changed(before | self._attendees([form.instance.pk]))
        kept_hours.sessions_tallied([form.instance.pk])  # a deleted session takes its tallies

    def delete_model(self, request, obj):
        before = self._attendees([obj.pk])
        super().delete_model(request, obj)
        kept_hours.staff_changed(before)

    def delete_queryset(self, request, queryset):
        before = self._attendees(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        kept_hours.staff_changed(before)


@admin.register(Feedback)
class FeedbackAdmin(EvidenceAdmin):
    evidence = "session__schools__district_id"
    list_display = ["session", "rating", "submitted_on", "anonymous"]
    raw_id_fields = ["session", "staff"]

    # An answer edited or deleted here is counted again in its session's feedback tally
    # (pd.hours), as the feedback service does.
    def save_model(self, request, obj, form, change):
        before = Feedback.unscoped.filter(pk=obj.pk).values_list("session_id", flat=True)
        sessions = set(before) if change else set()
        super().save_model(request, obj, form, change)
        kept_hours.feedback_tallied(sessions | {obj.session_id})

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        kept_hours.feedback_tallied([obj.session_id])

    def delete_queryset(self, request, queryset):
        sessions = set(queryset.values_list("session_id", flat=True))
        super().delete_queryset(request, queryset)
        kept_hours.feedback_tallied(sessions)


@admin.register(LearningLeader)
class LearningLeaderAdmin(EvidenceAdmin):
    evidence = "school__district_id"
    list_display = ["staff", "school", "cohort_year"]
    raw_id_fields = ["staff", "nominated_by"]


@admin.register(PDNeedsPoll)
class PDNeedsPollAdmin(EvidenceAdmin):
    evidence = "school__district_id"
    list_display = ["school", "period", "opens_on", "closes_on"]


admin.site.register(PDNeedsResponse)
admin.site.register(PDSessionChange)
