"""Count every district's kept PD hours again (pd.hours): the backfill after an import
that bypassed the services, and what the nightly task does.

``manage.py keep_pd_hours``"""

from django.core.management.base import BaseCommand

from pd.tasks import move_hours_windows


class Command(BaseCommand):
    help = "Count the kept PD hours of every district over the 365 days to its today."

    def handle(self, *args, **options):
        count = move_hours_windows()
        self.stdout.write(f"Counted the PD hours of {count} district(s).")
