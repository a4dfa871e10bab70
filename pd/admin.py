from django.contrib import admin

from schools.admin import EvidenceAdmin

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


@admin.register(Feedback)
class FeedbackAdmin(EvidenceAdmin):
    evidence = "session__schools__district_id"
    list_display = ["session", "rating", "submitted_on", "anonymous"]
    raw_id_fields = ["session", "staff"]


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
