"""PD hours per staff member.

``manage.py pd_hours [--school CODE] [--since YYYY-MM-DD] [--json]``: with ``--json`` a JSON
array with one object per active staff member, one object per line."""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pd import selectors
from schools.dates import shown_date
from schools.models import StaffMember
from schools.scoping import outside_scope


class Command(BaseCommand):
    help = "PD hours per active staff member since a date (default: the last 12 months)."

    def add_arguments(self, parser):
        parser.add_argument("--school", help="Only this school code.")
        parser.add_argument("--since", help="First day counted, YYYY-MM-DD.")
        parser.add_argument("--json", action="store_true", help="One JSON object per line.")

    def handle(self, *args, school=None, since=None, **options):
        today = timezone.localdate()
        if since:
            try:
                start = date.fromisoformat(since)
            except ValueError:
                raise CommandError("--since must be a date as YYYY-MM-DD.") from None
            if start > today:
                raise CommandError("--since is in the future.")
            period = selectors.Period(since=start, until=today)
        else:
            period = selectors.Period.last_year(today)
        with outside_scope():
            staff = StaffMember.objects.all()
            if school:
                staff = staff.filter(school__code=school)
                if not staff.exists():
                    raise CommandError(f"No school with code {school} has staff.")
            rows = selectors.staff_hours(staff, period).order_by(
                "school__district__name", "school__code", "full_name", "pk"
            )
            if options["json"]:
                self._json(rows)
            else:
                self._table(rows, period)

    def _json(self, rows):
        self.stdout.write("[")
        first = True
        for s in rows.iterator():
            self.stdout.write(
                ("" if first else ",\n")
                + json.dumps(
                    {
                        "staff": s.email,
                        "school": s.school.code,
                        "hours": float(s.hours),
                        "sessions": s.sessions,
                        "job_embedded_hours": float(s.job_embedded_hours),
                        "below_target": bool(s.below_target),
                    }
                ),
                ending="",
            )
            first = False
        self.stdout.write("\n]" if not first else "]")

    def _table(self, rows, period):
        since, until = shown_date(period.since), shown_date(period.until)
        self.stdout.write(f"PD hours {since} to {until} ({period.days} days)")
        self.stdout.write(
            f"{'Staff':<40} {'School':<8} {'Hours':>7} {'Sessions':>8} {'Job-emb.':>8}  Status"
        )
        for s in rows.iterator():
            status = "no PD" if not s.sessions else ("below target" if s.below_target else "")
            self.stdout.write(
                f"{(s.email or s.full_name)[:40]:<40} {s.school.code[:8]:<8} {s.hours:>7.2f} "
                f"{s.sessions:>8} {s.job_embedded_hours:>8.2f}  {status}"
            )
