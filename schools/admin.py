from django.contrib import admin

from .models import District, Membership, School, StaffMember


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "device_planning_ratio", "pd_hour_target"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
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
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["full_name", "position", "school", "active"]
    list_filter = ["position", "active", "school__district"]
    search_fields = ["full_name", "email"]
    raw_id_fields = ["user"]
