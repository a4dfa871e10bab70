"""The migration that gives each change-log line its school splits old shared lines."""

import importlib

from django.apps import apps

from pd.models import PDSessionChange
from tests.factories import PDSessionFactory, StaffMemberFactory


def test_old_lines_about_one_school_move_to_that_schools_row(maple, cedar):
    migration = importlib.import_module("pd.migrations.0003_pdsessionchange_school")
    session = PDSessionFactory(schools=[maple, cedar])
    StaffMemberFactory(school=maple, full_name="Mara M")
    StaffMemberFactory(school=cedar, full_name="Cy C")
    PDSessionChange.objects.create(
        session=session,
        changes={
            "Title": ["a", "b"],
            "Attendance: Mara M": ["Attended 1h", "Absent 0h"],
            "Attendance: Cy C": ["Attended 1h", "Absent 0h"],
            "Attendance: Someone who left": ["Attended 1h", "Absent 0h"],
            "Schools": ["Maple Elementary", "Cedar Middle, Maple Elementary"],
        },
    )
    migration.split_by_school(apps, None)
    rows = {c.school_id: c.changes for c in PDSessionChange.objects.all()}
    assert rows == {
        None: {"Title": ["a", "b"]},
        maple.pk: {"Attendance: Mara M": ["Attended 1h", "Absent 0h"]},
        cedar.pk: {
            "Attendance: Cy C": ["Attended 1h", "Absent 0h"],
            "School taking part": ["—", "Cedar Middle"],
        },
    }
