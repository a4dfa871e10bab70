"""Demo: a OneRoster API source approved for the nightly run, with its first preview, the
run that applied it and last night's delta, so the roster pages show something."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from schools.models import District, School

from .models import RosterRun, RosterSource, RunStatus, RunTrigger, SourceKind


def seed(district: District, schools: dict[str, School]) -> None:
    if RosterSource.objects.filter(district=district).exists():
        return
    now = timezone.now()
    source = RosterSource(
        district=district,
        kind=SourceKind.ONEROSTER_API,
        base_url="https://sis.example.org/ims/oneroster/v1p1",
        token_url="https://sis.example.org/oauth/token",  # noqa: S106 - a URL
        client_id="pillarwise-demo",
        student_key="identifier",
        touch_codes="504,IEP-TOUCH",
        error_threshold=10,
        nightly=True,
        approved_at=now - timedelta(days=6),
        delta_since=now - timedelta(hours=20),
    )
    source.set_secret("demo-client-secret")
    source.save()
    first = {
        "schools_matched": len(schools), "schools_unmatched": ["Northside Adult Ed (NAE)"],
        "students_created": 0, "students_updated": 41, "students_unchanged": 1180,
        "students_left": 12, "students_unmatched": 35, "staff_created": 9, "staff_updated": 3,
        "staff_left": 1, "connectivity_changed": 0,
    }  # fmt: skip
    runs = [
        (now - timedelta(days=6, hours=2), RunTrigger.PAGE, False, RunStatus.PREVIEWED, first,
         ["users sourcedId 7f3c-19: student 48213 names no school"], False),
        (now - timedelta(days=6), RunTrigger.PAGE, True, RunStatus.APPLIED, first,
         ["users sourcedId 7f3c-19: student 48213 names no school"], False),
        (now - timedelta(hours=20), RunTrigger.NIGHTLY, True, RunStatus.APPLIED,
         {**first, "students_updated": 6, "students_left": 2, "staff_created": 0,
          "staff_updated": 1, "staff_left": 0, "students_unchanged": 0}, [], True),
    ]  # fmt: skip
    for created, trigger, apply, status, counts, errors, delta in runs:
        run = RosterRun.objects.create(
            district=district,
            source=source,
            trigger=trigger,
            apply=apply,
            status=status,
            counts=counts,
            errors=errors,
            error_count=len(errors),
            delta=delta,
            records_read=1300 if not delta else 9,
            finished_at=created + timedelta(minutes=2),
        )
        RosterRun.objects.filter(pk=run.pk).update(created_at=created)
