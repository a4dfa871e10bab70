"""Demo readiness with history: real computations on the demo data as of past weeks.

``seed_demo`` calls the apps in INSTALLED_APPS order, and readiness comes last, so the
devices, students, PD sessions, feedback and polls of the other apps exist already.
Each back-dated run computes the indicators as of its day: PD attendance, feedback, polls,
surveys and initiatives count only up to that day (their dates say when they happened),
while devices and students are taken as they are now (the inventory does not keep a
dated state for every device and student). The history therefore shows professional
learning growing week by week on a steady inventory. Skipped when the district already has
snapshots.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from schools.scoping import outside_scope

from . import services
from .models import RunKind, Snapshot

WEEKS_OF_HISTORY = 8


def seed(district, schools) -> None:
    with outside_scope():
        if Snapshot.objects.filter(school__district=district).exists():
            return
        today = timezone.localdate()
        for weeks_ago in range(WEEKS_OF_HISTORY, 0, -1):
            services.run_now(
                district_id=district.pk,
                kind=RunKind.DEMO,
                as_of=today - timedelta(weeks=weeks_ago),
            )
        services.run_now(district_id=district.pk, kind=RunKind.DEMO)
