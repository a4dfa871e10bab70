"""`surveys_recent` (a count of surveys, target 3) was replaced by `surveys_per_audience`
(a share of three audiences, target 1.0). A district's own target for the old count means
nothing on the new scale, so such rows are removed rather than carried over; the district
gets the new indicator's default until it chooses again."""

from django.db import migrations


def forward(apps, schema_editor):
    IndicatorTarget = apps.get_model("readiness", "IndicatorTarget")
    IndicatorTarget._base_manager.filter(indicator="surveys_recent").delete()


class Migration(migrations.Migration):
    dependencies = [("readiness", "0001_initial")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
