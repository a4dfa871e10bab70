from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from equity.year import rollover
from schools.models import District
from schools.scoping import outside_scope


class Command(BaseCommand):
    help = (
        "Close the school year: every enrolled student moves up a grade, the top grade of a "
        "school with a next school (its feeder) moves there, leavers (the CSV list and the "
        "top grade of a school without one) are marked as left. Refused while a leaver still "
        "holds a device. --dry-run prints what would change and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", metavar="NAME", help="District name or slug.")
        parser.add_argument(
            "--leavers", metavar="CSV", help="Leavers list with columns student_id, reason."
        )
        parser.add_argument("--dry-run", action="store_true", help="Print, change nothing.")

    def handle(self, *args, district=None, leavers=None, dry_run=False, **options):
        text = ""
        if leavers:
            try:
                text = Path(leavers).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"Cannot read {leavers}: {exc}") from None
        with outside_scope():
            districts = District.objects.order_by("name")
            if district:
                districts = districts.filter(Q(name__iexact=district) | Q(slug__iexact=district))
            districts = list(districts)
            if not districts:
                raise CommandError(f"No district is called {district}.")
            if leavers and len(districts) > 1:
                raise CommandError("A leavers list belongs to one district: pass --district.")
            failed = False
            for d in districts:
                plan = rollover.plan_rollover(d, text)
                for line in plan.summary_lines():
                    self.stdout.write(line)
                if dry_run:
                    self.stdout.write("Dry run: nothing was changed.")
                    continue
                try:
                    run = rollover.run_rollover(d, text, by=None)
                except ValidationError:
                    failed = True
                    self.stderr.write(f"{d.name}: nothing was changed.")
                else:
                    self.stdout.write(
                        self.style.SUCCESS(
                            f"{d.name}: {run.promoted} moved up "
                            f"({run.details.get('moved_school', 0)} to the next school), "
                            f"{run.leavers} left."
                        )
                    )
        if failed:
            raise CommandError("The rollover was refused; fix the problems listed above.")
