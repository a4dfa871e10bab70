"""Compute readiness now, in this process (the same job the worker runs).

``manage.py compute_readiness [--school CODE | --district NAME] [--json]``: with ``--json`` a
JSON list, one object per school: ``school`` (code), ``overall`` (number or null),
``pillars`` (the seven pillar keys, each 0–100 or null for no evidence), ``computed_at``
(ISO 8601: when these scores were last computed, i.e. this run)."""

import json

from django.core.management.base import BaseCommand, CommandError

from readiness import services
from readiness.models import RunKind
from schools.models import District, School
from schools.pillars import Pillar
from schools.scoping import outside_scope


class Command(BaseCommand):
    help = "Compute readiness scores for a school, a district or every district."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--school", metavar="CODE", help="Only the school with this code.")
        which.add_argument("--district", metavar="NAME", help="Only the district of this name.")
        parser.add_argument("--json", action="store_true", help="Print a JSON list.")

    def handle(self, *args, school=None, district=None, **options):
        with outside_scope():
            runs = self._targets(school, district)
            school_ids = []
            for district_id, school_id in runs:
                services.run_now(district_id=district_id, school_id=school_id, kind=RunKind.COMMAND)
                if school_id:
                    school_ids.append(school_id)
            if not school:
                school_ids = list(
                    School.objects.filter(district_id__in=[d for d, _s in runs]).values_list(
                        "pk", flat=True
                    )
                )
            latest = services.latest_snapshots(school_ids)
            schools = School.objects.filter(pk__in=school_ids).select_related("district")
            rows = [
                self._row(s, latest.get(s.pk))
                for s in sorted(schools, key=lambda s: (s.district.name, s.code))
            ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
        else:
            for row in rows:
                pillars = "  ".join(
                    f"{k}={'—' if v is None else f'{v:g}'}" for k, v in row["pillars"].items()
                )
                overall = "—" if row["overall"] is None else f"{row['overall']:g}"
                self.stdout.write(f"{row['school']:<10} overall={overall}  {pillars}")

    def _targets(self, school, district) -> list[tuple[int, int | None]]:
        if school:
            found = list(School.objects.filter(code=school).values_list("district_id", "pk"))
            if not found:
                raise CommandError(f"No school has the code {school}.")
            if len(found) > 1:
                raise CommandError(
                    f"{len(found)} districts have a school with the code {school}; "
                    "use --district NAME."
                )
            return found
        districts = District.objects.all()
        if district:
            districts = districts.filter(name=district)
            if not districts.exists():
                raise CommandError(f"No district is named {district}.")
        return [(pk, None) for pk in districts.values_list("pk", flat=True)]

    @staticmethod
    def _row(school, snapshot) -> dict:
        return {
            "school": school.code,
            "overall": snapshot.overall if snapshot else None,
            "pillars": {
                key: (snapshot.pillars.get(key) if snapshot else None) for key in Pillar.values
            },
            "computed_at": snapshot.confirmed_at.isoformat() if snapshot else None,
        }
