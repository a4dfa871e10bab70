# A session's change log names the school each line concerns, so a shared session's log
# shows a principal only the lines about schools they may see.

import django.db.models.deletion
from django.db import migrations, models


def split_by_school(apps, schema_editor):
    """Move the lines of existing changes that concern one school onto a row of that school.

    ``Attendance: <name>`` lines go to the school of the session's attendee of that name
    (the staff member of one of the session's schools); a line whose person cannot be
    found any more is dropped rather than left where every school of the session reads it.
    ``Schools`` lines become one "School taking part" line per school that joined or left.
    """
    Change = apps.get_model("pd", "PDSessionChange")
    Link = apps.get_model("pd", "PDSession").schools.through
    Staff = apps.get_model("schools", "StaffMember")
    School = apps.get_model("schools", "School")
    for change in Change._base_manager.filter(school__isnull=True).iterator():
        lines = change.changes if isinstance(change.changes, dict) else {}
        if not any(k.startswith("Attendance: ") or k == "Schools" for k in lines):
            continue
        school_ids = list(
            Link._base_manager.filter(pdsession_id=change.session_id).values_list(
                "school_id", flat=True
            )
        )
        kept: dict = {}
        by_school: dict = {}
        for label, values in lines.items():
            if label.startswith("Attendance: "):
                name = label[len("Attendance: ") :]
                school_id = (
                    Staff._base_manager.filter(school_id__in=school_ids, full_name=name)
                    .order_by("pk")
                    .values_list("school_id", flat=True)
                    .first()
                )
                if school_id is not None:
                    by_school.setdefault(school_id, {})[label] = values
            elif label == "Schools":
                before = {n for n in str(values[0]).split(", ") if n}
                after = {n for n in str(values[1]).split(", ") if n}
                district_ids = School._base_manager.filter(pk__in=school_ids).values("district_id")
                names = dict(
                    School._base_manager.filter(district_id__in=district_ids).values_list(
                        "name", "pk"
                    )
                )
                for name in sorted(after - before):
                    if name in names:
                        by_school.setdefault(names[name], {})["School taking part"] = ["—", name]
                for name in sorted(before - after):
                    if name in names:
                        by_school.setdefault(names[name], {})["School taking part"] = [name, "—"]
            else:
                kept[label] = values
        for school_id, school_lines in by_school.items():
            Change._base_manager.create(
                session_id=change.session_id,
                school_id=school_id,
                changed_by_id=change.changed_by_id,
                changed_at=change.changed_at,
                changes=school_lines,
            )
        if kept:
            change.changes = kept
            change.save(update_fields=["changes"])
        else:
            change.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pd", "0002_pdsession_initiative"),
        ("schools", "0003_district_require_two_factor"),
    ]

    operations = [
        migrations.AddField(
            model_name="pdsessionchange",
            name="school",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="schools.school",
            ),
        ),
        migrations.RunPython(split_by_school, migrations.RunPython.noop),
    ]
