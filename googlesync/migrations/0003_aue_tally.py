"""The reports' kept tally of devices by auto-update expiration (googlesync.models.AueTally),
counted for every district as googlesync.services.count_aue counts it: one grouped read and
one insert per district, so the first report after the upgrade is already right."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.utils import timezone


def count_every_district(apps, schema_editor):
    District = apps.get_model("schools", "District")
    Device = apps.get_model("equity", "Device")
    AueTally = apps.get_model("googlesync", "AueTally")
    AueCounted = apps.get_model("googlesync", "AueCounted")
    now = timezone.now()
    for district_id in District.objects.order_by("pk").values_list("pk", flat=True):
        counts = (
            Device.objects.filter(district_id=district_id)
            .exclude(status="retired")
            .annotate(
                expires_on=Coalesce("auto_update_expiration", "model__auto_update_expiration")
            )
            .filter(expires_on__isnull=False)
            .values_list("school_id", "expires_on")
            .annotate(devices=Count("pk"))
            .order_by()
        )
        AueTally.objects.bulk_create(
            [
                AueTally(district_id=district_id, school_id=school, expires_on=day, devices=n)
                for school, day, n in counts
            ],
            batch_size=5000,
        )
        AueCounted.objects.create(district_id=district_id, counted_at=now)


class Migration(migrations.Migration):
    dependencies = [
        ("googlesync", "0002_reseal_keys_with_core_sealing"),
        ("schools", "0008_school_enrollment_override_and_more"),
        # The backfill reads each device's own expiration date.
        ("equity", "0009_device_auto_update_expiration"),
    ]

    operations = [
        migrations.CreateModel(
            name="AueCounted",
            fields=[
                (
                    "district",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="schools.district",
                    ),
                ),
                ("counted_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="AueTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("expires_on", models.DateField()),
                ("devices", models.PositiveIntegerField()),
                (
                    "district",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="schools.district",
                    ),
                ),
                (
                    "school",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="schools.school",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("district", "expires_on", "school"), name="aue_tally_once"
                    )
                ],
            },
        ),
        migrations.RunPython(count_every_district, migrations.RunPython.noop),
    ]
