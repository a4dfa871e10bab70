from django.contrib import admin

from equity.inventory.models import Assignment, Device, DeviceEvent, DeviceModel, Student
from equity.year.models import Charge, DeviceAgreement, PriceListEntry, RolloverRun, StationEvent
from schools.admin import EvidenceAdmin


@admin.register(DeviceModel)
class DeviceModelAdmin(EvidenceAdmin):
    """Its auto-update expiration decides which devices are usable."""

    list_display = [
        "maker",
        "name",
        "kind",
        "touchscreen",
        "unit_price",
        "auto_update_expiration",
        "district",
    ]
    list_filter = ["kind", "touchscreen", "district"]
    search_fields = ["maker", "name"]


@admin.register(Device)
class DeviceAdmin(EvidenceAdmin):
    list_display = ["asset_tag", "serial_number", "model", "school", "status"]
    list_filter = ["status", "model__kind", "school__district"]
    search_fields = ["=asset_tag", "=serial_number"]
    raw_id_fields = ["school", "model", "district"]
    readonly_fields = ["maker"]
    show_full_result_count = False  # no COUNT(*) over a million devices on every page


@admin.register(Student)
class StudentAdmin(EvidenceAdmin):
    list_display = ["local_id", "school", "grade", "needs_touch", "home_internet", "active"]
    list_filter = ["grade", "needs_touch", "home_internet", "active"]
    search_fields = ["=local_id"]
    raw_id_fields = ["school", "district"]
    show_full_result_count = False


@admin.register(Assignment)
class AssignmentAdmin(EvidenceAdmin):
    evidence = "device__district_id"
    list_display = ["device", "student", "checked_out_at", "checked_in_at", "condition_on_return"]
    raw_id_fields = ["device", "student", "checked_out_by", "checked_in_by"]
    show_full_result_count = False


@admin.register(DeviceEvent)
class DeviceEventAdmin(admin.ModelAdmin):
    """History is read-only here too."""

    list_display = ["device", "kind", "at", "school", "by"]
    list_filter = ["kind"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the device year ---
@admin.register(DeviceAgreement)
class DeviceAgreementAdmin(admin.ModelAdmin):
    """Publish a new version rather than editing one that was already accepted."""

    list_display = ["district", "version", "title", "published_at"]
    list_filter = ["district"]


@admin.register(PriceListEntry)
class PriceListEntryAdmin(admin.ModelAdmin):
    list_display = ["district", "kind", "device_model", "amount"]
    list_filter = ["district", "kind"]


@admin.register(StationEvent)
class StationEventAdmin(admin.ModelAdmin):
    list_display = ["name", "school", "kind", "day"]
    list_filter = ["kind"]


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ["device", "student", "kind", "amount", "status", "created_at"]
    list_filter = ["status", "kind"]
    raw_id_fields = ["device", "student", "assignment", "created_by", "resolved_by"]


@admin.register(RolloverRun)
class RolloverRunAdmin(admin.ModelAdmin):
    list_display = ["district", "school_year", "ran_at", "promoted", "leavers"]
