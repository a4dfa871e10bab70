from django.core.management.base import BaseCommand, CommandError

from audit import purge
from equity.inventory.models import Student
from schools.models import School
from schools.scoping import outside_scope


class Command(BaseCommand):
    help = (
        "Remove every student-linked row of one school (--school CODE) or one student "
        "(--student LOCAL_ID), in one transaction, and record that it was done. Devices "
        "stay; their history no longer names the student. See docs/privacy.md."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--school", metavar="CODE", help="The school's code.")
        which.add_argument("--student", metavar="ID", help="The student's local ID.")
        parser.add_argument(
            "--district",
            metavar="SLUG",
            help="The district, when the code or ID is used in more than one district.",
        )

    def handle(self, *args, school=None, student=None, district=None, **options):
        label = "purge_students command"
        with outside_scope():
            if school:
                found = School.objects.select_related("district").filter(code=school)
                if district:
                    found = found.filter(district__slug=district)
                target = self._one(found, f"school {school!r}")
                result = purge.purge_school(target, by_label=label)
            else:
                found = Student.objects.select_related("school__district").filter(local_id=student)
                if district:
                    found = found.filter(district__slug=district)
                target = self._one(found, "that student ID")
                result = purge.purge_student(target, by_label=label)
        self.stdout.write(f"Purged {result.students} student(s).")
        for table, count in sorted(result.counts.items()):
            self.stdout.write(f"  {table}: {count}")

    def _one(self, queryset, what: str):
        rows = list(queryset[:2])
        if not rows:
            raise CommandError(f"No {what} was found; nothing was removed.")
        if len(rows) > 1:
            raise CommandError(f"More than one district has {what}; pass --district.")
        return rows[0]
