from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "user", "district", "school", "object_type", "detail"]
    list_filter = ["kind"]
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None):
        return False
