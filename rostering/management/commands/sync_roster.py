"""python manage.py sync_roster --district SLUG --source oneroster-csv PATH|oneroster-api|edfi
[--apply] [--json]"""

import json

from django.core.management.base import BaseCommand, CommandError

from rostering import services
from rostering.models import RosterSource, RunTrigger, SourceKind
from schools.models import District
from schools.scoping import outside_scope


class Command(BaseCommand):
    help = (
        "Read a district's roster (a OneRoster CSV bundle, the OneRoster REST API or the "
        "Ed-Fi ODS/API), print what would change, and write it only with --apply. The REST "
        "sources read their URLs, client id and secret from the district's roster source."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="The district's slug.")
        parser.add_argument(
            "--source",
            required=True,
            nargs="+",
            metavar="KIND [PATH]",
            help="oneroster-csv PATH, oneroster-api or edfi",
        )
        parser.add_argument("--apply", action="store_true", help="Write the changes.")
        parser.add_argument("--json", action="store_true", help="Print the preview as JSON.")

    def handle(self, *args, district, source, apply, json, **options):
        kind, *rest = source
        if kind not in SourceKind.values:
            raise CommandError(f"--source must be one of {', '.join(SourceKind.values)}")
        bundle = None
        if kind == SourceKind.ONEROSTER_CSV:
            if len(rest) != 1:
                raise CommandError("--source oneroster-csv needs the bundle's PATH")
            bundle = rest[0]
        elif rest:
            raise CommandError(f"--source {kind} takes no path")
        with outside_scope():
            found = District.objects.filter(slug=district).first()
            if found is None:
                raise CommandError(f'No district "{district}"')
            src = RosterSource.objects.filter(district=found, kind=kind).first()
            if src is None:
                if kind != SourceKind.ONEROSTER_CSV:
                    raise CommandError(
                        f"{found.name} has no {kind} source; set its URLs, client id and "
                        "secret on the district's roster page first"
                    )
                src = RosterSource.objects.create(district=found, kind=kind)
            try:
                run = services.run_create(source=src, trigger=RunTrigger.COMMAND, apply=apply)
            except services.ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            out = services.run_execute(run.pk, bundle=bundle)
        self._print(out, as_json=json)
        if out.refused:
            raise SystemExit(1)

    def _print(self, out, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(out.as_json(), indent=2))
        else:
            verb = "Applied" if out.applied else "Would apply" if not out.refused else "Refused"
            self.stdout.write(
                f"{verb}: schools {out.schools_matched} matched, "
                f"{len(out.schools_unmatched)} unmatched; students {out.students_created} new, "
                f"{out.students_updated} changed, {out.students_unchanged} unchanged, "
                f"{out.students_left} left; staff {out.staff_created} new, "
                f"{out.staff_updated} changed, {out.staff_left} left"
            )
            for school in out.schools_unmatched:
                self.stdout.write(f"Unmatched school: {school}")
            for note in out.notes:
                self.stdout.write(note)
        if out.refused:
            for error in out.all_errors():
                self.stderr.write(error)
            self.stderr.write(
                "Nothing was written: "
                + (out.fatal or f"{out.error_count} records in error, more than allowed")
            )
        elif out.error_count and not as_json:
            self.stdout.write(f"{out.error_count} records in error were skipped:")
            for error in out.all_errors():
                self.stdout.write(error)
