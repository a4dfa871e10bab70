"""Admin for superusers. A status change goes through the workflow's one door
(``services.initiative_move``; a new initiative through ``services.initiative_start``), so a
move the rules forbid is refused on its field and every move is recorded with the superuser
who made it."""

from django import forms
from django.contrib import admin
from django.db import models

from schools.admin import EvidenceAdmin
from schools.forms import ModelForm

from . import services
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


class InitiativeAdminForm(ModelForm):
    """The admin's initiative form: a status change is checked as the move service checks
    it, with the same override of the listening rule."""

    override_reason = forms.CharField(
        label="Override reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Only for pilot or rollout before a linked survey has closed.",
    )

    class Meta:
        model = Initiative
        fields = "__all__"

    def clean(self):
        data = super().clean()
        adding = self.instance.pk is None
        if adding or "status" in self.changed_data:
            problems = services.move_problems(
                initiative=self.instance,
                from_status=None if adding else self.initial.get("status"),
                to=data.get("status") or "",
                override_reason=data.get("override_reason") or "",
            )
            for name, messages in problems.items():
                self.add_error(name if name in self.fields else None, messages)
        return data


@admin.register(Initiative)
class InitiativeAdmin(EvidenceAdmin):
    form = InitiativeAdminForm
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

    def save_model(self, request, obj, form, change):
        if not change:
            services.initiative_start(initiative=obj, by=request.user)
            return
        to = obj.status
        moved = "status" in form.changed_data
        if moved:
            obj.status = form.initial["status"]  # the plan first, as stored; then the move
        super().save_model(request, obj, form, change)
        if moved:
            services.initiative_move(
                initiative=obj,
                to=to,
                by=request.user,
                override_reason=form.cleaned_data.get("override_reason") or "",
            )


@admin.register(Swot)
class SwotAdmin(EvidenceAdmin):
    evidence = "school__district_id"
    list_display = ["school", "year"]
    raw_id_fields = ["created_by"]


@admin.register(Reflection)
class ReflectionAdmin(EvidenceAdmin):
    evidence = "school__district_id"
    list_display = ["school", "written_on", "connection", "initiative"]
    raw_id_fields = ["author"]
