"""Make a personal API token for a person and print it once (for scripts and tests)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from api.services import DEFAULT_DAYS, token_create
from schools.dates import shown_date


class Command(BaseCommand):
    help = "Make an API token for EMAIL and print it once: the same tokens as the account page."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--read-only", action="store_true", help="Reads only; no writes.")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="Days until it expires.")
        parser.add_argument("--name", default="command line", help="What the token is for.")

    def handle(self, *args, email, read_only, days, name, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account with the e-mail address {email}.")
        try:
            row, token = token_create(user=user, name=name, read_only=read_only, days=days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(
            f"{'Read-only' if read_only else 'Read-write'} token {row.shown_prefix} for "
            f"{user.email}, expires {shown_date(row.expires_at)}. It is shown only now:"
        )
        self.stdout.write(token)
