"""The loss report's own index, ``event_losses``: (school, at) with the device,
circumstance, place and id included, on the loss and theft events only.

Why it is needed: the district loss report (equity/inventory/losses.py) reads every loss
event of the district's schools. Through ``event_school_kind_at`` each of them was a visit
to the table's page for the device, circumstance and place (at a million students 15,000
losses on as many pages: 25,000 buffers, 100 ms of a 125 ms page). With those columns in
this index the read, and the report's change stamp (count, sum and largest id of the
losses, which decides whether the kept report still holds), are index-only scans (150
buffers, under 2 ms).

What it costs: the partial condition keeps it to the losses, a fraction of a percent of the
events (15,000 of 4.2 million at a million students, under 1 MB); an import writes
"created" and "moved" events, which never enter it. Listed in docs/imports.md ("Indexes of
the device tables")."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("equity", "0012_event_indexes_for_pages_and_rules"),
        ("schools", "0008_school_enrollment_override_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deviceevent",
            index=models.Index(
                condition=models.Q(("kind__in", ["lost", "stolen"])),
                fields=["school", "at"],
                include=("device", "circumstance", "place", "id"),
                name="event_losses",
            ),
        ),
    ]
