"""The task outbox and the audit log move here from ``audit``, tables and rows untouched.

Both tables keep the names ``audit`` gave them (``db_table``); only Django's picture of
which app owns the models changes (audit 0003 drops them from its own). Their content types
follow, so the permissions and admin history attached to them stay attached.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ("auditevent", "pendingtask")


def _move_content_types(apps, schema_editor, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            continue
        ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=target)


def forward(apps, schema_editor):
    _move_content_types(apps, schema_editor, "audit", "core")


def backward(apps, schema_editor):
    _move_content_types(apps, schema_editor, "core", "audit")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("audit", "0002_pending_task"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("schools", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PendingTask",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        ("args", models.JSONField(default=list)),
                        ("key", models.CharField(db_index=True, max_length=255)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("last_error", models.CharField(blank=True, max_length=200)),
                    ],
                    options={
                        "db_table": "audit_pendingtask",
                        "ordering": ["pk"],
                    },
                ),
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("login", "Signed in"),
                                    ("login_failed", "Failed sign-in"),
                                    ("denied_scope", "Refused: outside the user's schools (404)"),
                                    ("denied_role", "Refused: role does not allow it (403)"),
                                    ("export", "Export"),
                                    ("bulk", "Bulk action"),
                                    ("delete", "Deletion"),
                                    ("purge", "Student records purged"),
                                    ("retention", "Retention setting changed"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("object_type", models.CharField(blank=True, max_length=60)),
                        ("object_id", models.CharField(blank=True, max_length=40)),
                        ("detail", models.CharField(blank=True, max_length=200)),
                        ("subject_hash", models.CharField(blank=True, max_length=64)),
                        (
                            "district",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="schools.district",
                            ),
                        ),
                        (
                            "school",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="schools.school",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "audit_auditevent",
                        "ordering": ["-at", "-pk"],
                        "indexes": [
                            models.Index(fields=["district", "at"], name="audit_district_at"),
                            models.Index(
                                fields=["district", "kind", "at"], name="audit_district_kind_at"
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forward, backward),
    ]
