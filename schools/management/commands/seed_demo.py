from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from schools.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create (or refresh) the Riverbend demo district and print its demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DEBUG off. The demo accounts share a published password.",
        )

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "Refusing to create demo accounts with a published password while DEBUG is "
                "off. Pass --allow-production if this really is a demo server."
            )
        logins = seed_demo()
        self.stdout.write(
            self.style.SUCCESS("Demo district ready: Riverbend Unified School District")
        )
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}")
        width = max(len(login.email) for login in logins)
        for login in logins:
            role = "superuser (Django admin)" if login.superuser else login.role.label
            where = ", ".join(login.schools) or "whole district"
            if login.superuser:
                where = "everything"
            self.stdout.write(f"  {login.email.ljust(width)}  {role} — {where}")
        self.stdout.write("Open http://127.0.0.1:8000 and sign in with one of them.")
