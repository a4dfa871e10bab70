from django.contrib import admin

from .models import IndicatorTarget, ReadinessRun, Snapshot


@admin.register(IndicatorTarget)
class IndicatorTargetAdmin(admin.ModelAdmin):
    list_display = ["district", "indicator", "target", "weight", "updated_at"]
    list_filter = ["district"]


@admin.register(ReadinessRun)
class ReadinessRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "district", "school", "kind", "status", "created_at", "finished_at"]
    list_filter = ["status", "kind", "district"]
    readonly_fields = [f.name for f in ReadinessRun._meta.fields]


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["school", "computed_at", "confirmed_at", "overall", "run"]
    list_filter = ["school__district"]
    readonly_fields = [f.name for f in Snapshot._meta.fields]
