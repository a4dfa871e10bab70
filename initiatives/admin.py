"""Admin for superusers. Saving here goes through the models, so the rules hold: a status
change the workflow forbids is refused, and every change is recorded (by nobody in
particular, since the admin does not pass the user)."""

from django.contrib import admin
from django.db import models

from .models import (
    BudgetLine,
    ComplianceItem,
    Initiative,
    InitiativePillar,
    Milestone,
    Reflection,
    SignOff,
    StatusChange,
    Swot,
)


class PillarInline(admin.TabularInline):
    model = InitiativePillar
    extra = 0


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


class BudgetLineInline(admin.TabularInline):
    model = BudgetLine
    extra = 0


class ComplianceInline(admin.TabularInline):
    model = ComplianceItem
    extra = 0
    exclude = ["updated_by"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class SignOffInline(admin.TabularInline):
    model = SignOff
    extra = 0
    exclude = ["recorded_by"]


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "by", "at", "override_reason"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = ["title", "district", "status", "whole_district", "involves_devices"]
    list_filter = ["status", "whole_district", "involves_devices"]
    search_fields = ["title"]
    filter_horizontal = ["schools"]
    raw_id_fields = ["owner", "created_by"]
    inlines = [
        PillarInline,
        MilestoneInline,
        BudgetLineInline,
        ComplianceInline,
        SignOffInline,
        StatusChangeInline,
    ]


@admin.register(Swot)
class SwotAdmin(admin.ModelAdmin):
    list_display = ["school", "year"]
    raw_id_fields = ["created_by"]


@admin.register(Reflection)
class ReflectionAdmin(admin.ModelAdmin):
    list_display = ["school", "written_on", "connection", "initiative"]
    raw_id_fields = ["author"]
