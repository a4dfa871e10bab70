import json as jsonlib

from django.core.management.base import BaseCommand, CommandError

from googlesync import services
from googlesync.directory import GoogleProblem
from googlesync.models import GoogleConnection, SyncRun
from schools.scoping import outside_scope

KEYS = (
    "created",
    "updated",
    "retired",
    "unmapped_org_units",
    "only_in_google",
    "only_in_pillarwise",
)


class Command(BaseCommand):
    help = (
        "Read a district's Chromebooks from Google Admin (Directory API) into the inventory, "
        "in one transaction. Nothing is deleted: devices only in Google or only here are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", metavar="SLUG", required=True)
        parser.add_argument(
            "--dry-run", action="store_true", help="Do everything, then roll back: a preview."
        )
        parser.add_argument(
            "--delta",
            action="store_true",
            help="Only devices that synced with Google since the last full run.",
        )
        parser.add_argument("--json", action="store_true", help="The counts and lists as JSON.")

    def handle(self, *args, district, dry_run=False, delta=False, json=False, **options):
        with outside_scope():
            connection = (
                GoogleConnection.unscoped.select_related("district")
                .filter(district__slug=district)
                .first()
            )
            if connection is None:
                raise CommandError(f"District {district} has no Google connection.")
            # Recorded as every run is (the district's Google page lists it).
            run = SyncRun.unscoped.create(
                district=connection.district, dry_run=dry_run, status=SyncRun.Status.READING
            )
            try:
                result = services.sync(connection, dry_run=dry_run, delta=delta)
            except GoogleProblem as exc:
                services.run_finish(run, None, str(exc))
                raise CommandError(str(exc)) from None
            services.run_finish(run, result)
        data = result.as_json()
        if json:
            out = {key: data[key] for key in KEYS}
            out.update(
                assigned_elsewhere=data["assigned_elsewhere"],
                problems=data["problems"],
                devices_read=data["devices_read"],
                backoffs=data["backoffs"],
                dry_run=dry_run,
            )
            self.stdout.write(jsonlib.dumps(out, indent=2))
            return
        verb = "Would write" if dry_run else "Wrote"
        self.stdout.write(
            f"{verb}: {result.created} created, {result.updated} updated, {result.retired} "
            f"retired, from {result.devices_read} devices read in {result.pages} pages "
            f"({result.backoffs} quota waits)."
        )
        for label, items in (
            ("Unmapped org units", result.unmapped_org_units),
            ("Only in Google (no school)", result.only_in_google),
            ("Only in Pillarwise", result.only_in_pillarwise),
            ("Checked out here, in another school's org unit", result.assigned_elsewhere),
            ("Problems", result.problems),
        ):
            if items:
                self.stdout.write(f"{label} ({len(items)}): " + ", ".join(items[:50]))
