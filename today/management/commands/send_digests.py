"""python manage.py send_digests [--district SLUG] [--dry-run] [--reminders]"""

from django.core.management.base import BaseCommand, CommandError

from schools.models import District
from schools.scoping import outside_scope

from ... import notices


class Command(BaseCommand):
    help = (
        "Compose and send this week's digests (each person's home page items), once per "
        "person and week: a second run in the same week sends nothing. --reminders sends "
        "the reminders due now instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", help="Only the people of this district (its slug).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Compose and list, send nothing."
        )
        parser.add_argument("--reminders", action="store_true", help="Send the reminders due now.")

    def handle(self, *args, district=None, dry_run=False, reminders=False, **options):
        chosen = None
        if district:
            with outside_scope():
                chosen = District.objects.filter(slug=district).first()
            if chosen is None:
                raise CommandError(f"No district has the slug “{district}”.")
        run = notices.send_reminders if reminders else notices.send_digests
        verbose = options.get("verbosity", 1) > 1 or dry_run
        result = run(chosen, dry_run=dry_run, out=self.stdout.write if verbose else None)
        what = "reminder e-mails" if reminders else "digests"
        verb = "would be sent" if dry_run else "sent"
        self.stdout.write(
            f"{result.people} people: {result.sent} {what} {verb}, {result.skipped} skipped "
            f"(already sent, opted out or nothing to say), {result.failed} failed."
        )
        if result.failed:
            raise CommandError(f"{result.failed} e-mails were refused; run again to retry them.")
