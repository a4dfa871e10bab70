"""A ``released`` device event, and the devices earlier purges left "assigned" to nobody.

Before this, purging a student deleted their open assignment and left the device marked
assigned, which check-in then refused. Such devices go back in stock here, each with the
event a purge now writes (``equity.services.devices_release``), naming no one.
"""

from django.db import migrations, models
from django.utils import timezone

NOTE = (
    "The student record of the person who held it was removed, so it is back in stock. "
    "Collect it if it is still out."
)


def release_orphans(apps, schema_editor):
    Device = apps.get_model("equity", "Device")
    Assignment = apps.get_model("equity", "Assignment")
    DeviceEvent = apps.get_model("equity", "DeviceEvent")
    open_assignments = Assignment.objects.filter(checked_in_at__isnull=True)
    orphans = Device.objects.filter(status="assigned").exclude(
        pk__in=open_assignments.values("device_id")
    )
    now = timezone.now()
    while True:
        batch = list(orphans.order_by("pk").values_list("pk", "school_id")[:5000])
        if not batch:
            return
        DeviceEvent.objects.bulk_create(
            DeviceEvent(device_id=pk, kind="released", at=now, school_id=school_id, note=NOTE)
            for pk, school_id in batch
        )
        Device.objects.filter(pk__in=[pk for pk, _ in batch]).update(
            status="in_stock", updated_at=now
        )


class Migration(migrations.Migration):
    dependencies = [
        ("equity", "0006_readiness_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deviceevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Added to inventory"),
                    ("check_out", "Checked out"),
                    ("check_in", "Checked in"),
                    ("lost", "Reported lost"),
                    ("stolen", "Reported stolen"),
                    ("recovered", "Recovered"),
                    ("repair_sent", "Sent for repair"),
                    ("repair_returned", "Back from repair"),
                    ("audit_seen", "Seen in an audit"),
                    ("moved", "Moved to another school"),
                    ("retired", "Retired"),
                    ("released", "Back in stock (holder's record removed)"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(release_orphans, migrations.RunPython.noop),
    ]
