import django.db.models.deletion
from django.db import migrations, models


def record_where_switched_off(apps, schema_editor):
    """An account already switched off whose roles all lie in one district is taken to have
    been switched off there, so that district's admins can still switch it on; any other
    (a superuser, roles in several districts or none) is left to a site superuser."""
    User = apps.get_model("accounts", "User")
    Membership = apps.get_model("schools", "Membership")
    for user in User.objects.filter(is_active=False, is_superuser=False).iterator():
        districts = set(Membership.objects.filter(user=user).values_list("district_id", flat=True))
        if len(districts) == 1:
            User.objects.filter(pk=user.pk).update(switched_off_in_id=districts.pop())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_usersession"),
        ("schools", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="switched_off_in",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="schools.district",
            ),
        ),
        migrations.RunPython(record_where_switched_off, migrations.RunPython.noop),
    ]
