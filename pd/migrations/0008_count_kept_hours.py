"""Backfill: every district's kept PD hours (pd.hours) counted over the 365 days to its
today, as the nightly task pd.tasks.move_hours_windows does (the rule restated here with the
historical models, so this migration keeps working when the code moves on)."""

import zoneinfo
from datetime import timedelta

from django.db import migrations
from django.db.models import Count, Q, Sum
from django.utils import timezone


def count(apps, schema_editor):
    District = apps.get_model("schools", "District")
    Attendance = apps.get_model("pd", "Attendance")
    StaffHours = apps.get_model("pd", "StaffHours")
    HoursWindow = apps.get_model("pd", "HoursWindow")
    now = timezone.now()
    for district_id, zone in District.objects.values_list("pk", "time_zone"):
        until = timezone.localtime(now, zoneinfo.ZoneInfo(zone)).date()
        tallies = (
            Attendance.objects.filter(
                staff__school__district_id=district_id,
                status="attended",
                session__date__gte=until - timedelta(days=364),
                session__date__lte=until,
            )
            .values("staff_id")
            .annotate(
                total=Sum("hours"),
                count=Count("pk"),
                job_embedded=Sum("hours", filter=Q(session__job_embedded=True)),
                ongoing=Sum("hours", filter=Q(session__ongoing_series=True)),
            )
            .order_by()
        )
        StaffHours.objects.bulk_create(
            (
                StaffHours(
                    staff_id=t["staff_id"],
                    hours=t["total"] or 0,
                    sessions=t["count"],
                    job_embedded_hours=t["job_embedded"] or 0,
                    ongoing_hours=t["ongoing"] or 0,
                )
                for t in tallies.iterator(chunk_size=5000)
            ),
            batch_size=5000,
        )
        HoursWindow.objects.create(district_id=district_id, until=until, refreshed_at=now)


class Migration(migrations.Migration):
    dependencies = [("pd", "0007_kept_staff_hours")]

    operations = [migrations.RunPython(count, migrations.RunPython.noop)]
