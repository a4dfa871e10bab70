import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import AttendanceFactory, PDSessionFactory, StaffMemberFactory


def _run(*args):
    out = StringIO()
    call_command("pd_hours", *args, stdout=out)
    return out.getvalue()


def test_json_has_one_object_per_staff_member(maple, cedar):
    ana = StaffMemberFactory(school=maple, email="ana@maple.example.org")
    StaffMemberFactory(school=maple, email="bo@maple.example.org")
    StaffMemberFactory(school=cedar, email="cy@cedar.example.org")
    embedded = PDSessionFactory(schools=[maple, cedar], duration_minutes=90, job_embedded=True)
    AttendanceFactory(session=embedded, staff=ana)
    old = PDSessionFactory(schools=[maple], date=timezone.localdate() - timedelta(days=400))
    AttendanceFactory(session=old, staff=ana)
    rows = json.loads(_run("--school", "MAPLE", "--json"))
    assert rows == [
        {
            "staff": "ana@maple.example.org",
            "school": "MAPLE",
            "hours": 1.5,
            "sessions": 1,
            "job_embedded_hours": 1.5,
            "below_target": True,
        },
        {
            "staff": "bo@maple.example.org",
            "school": "MAPLE",
            "hours": 0.0,
            "sessions": 0,
            "job_embedded_hours": 0.0,
            "below_target": True,
        },
    ]
    since = (timezone.localdate() - timedelta(days=500)).isoformat()
    longer = {r["staff"]: r for r in json.loads(_run("--since", since, "--json"))}
    assert longer["ana@maple.example.org"]["sessions"] == 2
    assert len(json.loads(_run("--json"))) == 3


def test_table_output_and_bad_arguments(maple):
    StaffMemberFactory(school=maple, email="ana@maple.example.org")
    out = _run("--school", "MAPLE")
    assert "ana@maple.example.org" in out and "no PD" in out
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _run("--since", "last week")
    with pytest.raises(CommandError, match="NOPE"):
        _run("--school", "NOPE")
