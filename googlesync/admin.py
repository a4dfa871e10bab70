from django.contrib import admin

from .models import GoogleConnection, GoogleDevice, OrgUnit, SyncRun


@admin.register(GoogleConnection)
class GoogleConnectionAdmin(admin.ModelAdmin):
    # The sealed key is never shown, here either.
    list_display = ["district", "admin_email", "customer_id", "key_client_email", "approved_at"]
    exclude = ["key_sealed"]
    readonly_fields = ["key_client_email", "key_id", "key_uploaded_at", "approved_at"]


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["district", "path", "school", "device_count"]


@admin.register(GoogleDevice)
class GoogleDeviceAdmin(admin.ModelAdmin):
    list_display = ["serial_number", "district", "status", "org_unit_path", "last_sync"]
    search_fields = ["serial_number", "annotated_asset_id"]
    raw_id_fields = ["device"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["district", "created_at", "status", "created", "updated", "retired"]
