import json as jsonlib

from django.core.management.base import BaseCommand, CommandError

from equity.inventory.coverage import school_coverage
from schools.models import School
from schools.scoping import outside_scope


class Command(BaseCommand):
    help = "Print each school's device coverage: target, usable devices, gaps, homework gap."

    def add_arguments(self, parser):
        parser.add_argument("--school", metavar="CODE", help="Only the school with this code.")
        parser.add_argument("--district", metavar="SLUG", help="Only this district's schools.")
        parser.add_argument(
            "--json", action="store_true", help="A JSON list, one object per school."
        )

    def handle(self, *args, school=None, district=None, json=False, **options):
        with outside_scope():
            schools = School.objects.all()
            if district:
                schools = schools.filter(district__slug=district)
            if school:
                schools = schools.filter(code__iexact=school)
                if not schools.exists():
                    raise CommandError(f"No school has the code {school}.")
            rows = sorted(
                school_coverage(schools), key=lambda r: (r.school.district_id, r.school.code)
            )
        if json:
            self.stdout.write(_dumps([r.as_json() for r in rows]))
            return
        self.stdout.write(
            f"{'school':<10}{'enrolled':>9}{'target':>8}{'usable':>8}{'gap':>7}"
            f"{'touch gap':>10}{'homework gap':>13}"
        )
        for r in rows:
            self.stdout.write(
                f"{r.school.code:<10}{r.enrollment:>9}{r.target:>8}{r.usable:>8}{r.gap:>7}"
                f"{r.touch_gap:>10}{r.homework_gap:>13}"
            )


def _dumps(data) -> str:
    return jsonlib.dumps(data, indent=2)
