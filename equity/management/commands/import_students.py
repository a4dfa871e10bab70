from django.core.management.base import BaseCommand

from equity.imports import students as student_import

from .import_devices import add_common_arguments, run


class Command(BaseCommand):
    help = (
        "Import a student roster from a CSV file: student_id, school, grade, needs_touch, "
        "home_internet. Name and birth-date columns are ignored: students are pseudonymous. "
        "Every row is checked first; any error writes nothing and exits 1."
    )

    def add_arguments(self, parser):
        add_common_arguments(parser)

    def handle(self, *args, path, school=None, district=None, dry_run=False, **options):
        run(
            self,
            student_import.import_students,
            path=path,
            school=school,
            district=district,
            dry_run=dry_run,
        )
