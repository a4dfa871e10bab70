"""AuditEvent and PendingTask now belong to ``core`` (core 0001 takes them over, tables and
rows untouched); this drops them from ``audit``'s picture of its models only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_pending_task"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="PendingTask"),
                migrations.DeleteModel(name="AuditEvent"),
            ],
            database_operations=[],
        ),
    ]
