from django.contrib import admin

from .models import District, Membership, School, StaffMember
from .signals import evidence_changed


class EvidenceAdmin(admin.ModelAdmin):
    """The admin of a model readiness reads: a save or delete here is a write path like any
    service, so it announces ``evidence_changed`` for the districts of the rows it wrote
    (with their inlines and school links, on the admin's one transaction's commit).

    ``evidence`` is the lookup from the model to its district (``school__district_id``).
    tests/readiness/test_every_write_path.py checks that every admin of the domain apps is
    one of these or is named as no evidence, and that each lookup answers a district."""

    evidence = "district_id"

    def announce(self, queryset) -> None:
        districts = set(queryset.values_list(self.evidence, flat=True)) - {None}
        evidence_changed.send(sender=self.model, district_ids=districts)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # after save_model
        self.announce(self.get_queryset(request).filter(pk=form.instance.pk))

    def delete_model(self, request, obj):
        self.announce(self.get_queryset(request).filter(pk=obj.pk))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self.announce(queryset)
        super().delete_queryset(request, queryset)


@admin.register(District)
class DistrictAdmin(EvidenceAdmin):
    evidence = "pk"  # its ratio, PD-hour target and survey group feed the indicators
    list_display = ["name", "device_planning_ratio", "pd_hour_target"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(School)
class SchoolAdmin(EvidenceAdmin):
    list_display = ["name", "code", "district", "lowest_grade", "highest_grade"]
    list_filter = ["district"]
    search_fields = ["name", "code"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "district", "school", "created_at"]
    list_filter = ["role", "district"]
    search_fields = ["user__email", "user__full_name"]
    raw_id_fields = ["user", "invited_by"]


@admin.register(StaffMember)
class StaffMemberAdmin(EvidenceAdmin):
    evidence = "school__district_id"
    list_display = ["full_name", "position", "school", "active"]
    list_filter = ["position", "active", "school__district"]
    search_fields = ["full_name", "email"]
    raw_id_fields = ["user"]
