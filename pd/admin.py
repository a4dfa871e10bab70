from django.contrib import admin

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
class PDSessionAdmin(admin.ModelAdmin):
    list_display = ["title", "date", "format", "job_embedded", "ongoing_series"]
    list_filter = ["format", "job_embedded", "ongoing_series"]
    search_fields = ["title"]
    raw_id_fields = ["facilitator_user", "facilitator_staff", "created_by"]
    inlines = [PillarInline, AttendanceInline]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["session", "rating", "submitted_on", "anonymous"]
    raw_id_fields = ["session", "staff"]


@admin.register(LearningLeader)
class LearningLeaderAdmin(admin.ModelAdmin):
    list_display = ["staff", "school", "cohort_year"]
    raw_id_fields = ["staff", "nominated_by"]


@admin.register(PDNeedsPoll)
class PDNeedsPollAdmin(admin.ModelAdmin):
    list_display = ["school", "period", "opens_on", "closes_on"]


admin.site.register(PDNeedsResponse)
admin.site.register(PDSessionChange)
