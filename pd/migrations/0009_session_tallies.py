"""The per-session tallies and Learning Leaders' reach (pd.hours), and their backfill: every
session's attendance and feedback counted, and each kept district's reach over its window
(the rule restated with the historical models, so this migration keeps working)."""

from datetime import timedelta
from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, Sum


def count(apps, schema_editor):
    Attendance = apps.get_model("pd", "Attendance")
    Feedback = apps.get_model("pd", "Feedback")
    SessionTally = apps.get_model("pd", "SessionTally")
    FeedbackTally = apps.get_model("pd", "FeedbackTally")
    LeaderReach = apps.get_model("pd", "LeaderReach")
    HoursWindow = apps.get_model("pd", "HoursWindow")
    attended = Attendance.objects.filter(status="attended")
    rows = (
        attended.values("session_id", "staff__school_id")
        .annotate(n=Count("pk"), total=Sum("hours"))
        .order_by()
    )
    SessionTally.objects.bulk_create(
        (
            SessionTally(
                session_id=r["session_id"],
                school_id=r["staff__school_id"],
                attended=r["n"],
                hours=r["total"] or 0,
            )
            for r in rows.iterator(chunk_size=5000)
        ),
        batch_size=5000,
    )
    rows = Feedback.objects.values("session_id").annotate(n=Count("pk"), total=Sum("rating"))
    FeedbackTally.objects.bulk_create(
        (
            FeedbackTally(session_id=r["session_id"], answers=r["n"], rating_sum=r["total"])
            for r in rows.order_by().iterator(chunk_size=5000)
        ),
        batch_size=5000,
    )
    for window in HoursWindow.objects.all():
        rows = (
            attended.filter(
                staff__school__district_id=window.district_id,
                session__date__gte=window.until - timedelta(days=364),
                session__date__lte=window.until,
            )
            .values("staff_id", "staff__school_id", "session__facilitator_staff_id")
            .annotate(n=Count("pk"), total=Sum("hours"))
            .order_by()
        )
        LeaderReach.objects.bulk_create(
            (
                LeaderReach(
                    staff_id=r["staff_id"],
                    school_id=r["staff__school_id"],
                    leader_id=r["session__facilitator_staff_id"],
                    sessions=r["n"],
                    hours=r["total"] or 0,
                )
                for r in rows.iterator(chunk_size=5000)
            ),
            batch_size=5000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("pd", "0008_count_kept_hours"),
        ("schools", "0008_school_enrollment_override_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="FeedbackTally",
            fields=[
                (
                    "session",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="feedback_tally",
                        serialize=False,
                        to="pd.pdsession",
                    ),
                ),
                ("answers", models.PositiveIntegerField(default=0)),
                ("rating_sum", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="LeaderReach",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sessions", models.PositiveIntegerField(default=0)),
                (
                    "hours",
                    models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=10),
                ),
                (
                    "leader",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="schools.staffmember",
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
                (
                    "staff",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="schools.staffmember",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="SessionTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("attended", models.PositiveIntegerField(default=0)),
                (
                    "hours",
                    models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=10),
                ),
                (
                    "school",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="schools.school",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tallies",
                        to="pd.pdsession",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("session", "school"), name="pd_sessiontally_once"
                    )
                ],
            },
        ),
        migrations.RunPython(count, migrations.RunPython.noop),
    ]
