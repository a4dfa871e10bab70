from django.core.management.base import BaseCommand, CommandError

from equity.imports import devices as device_import
from equity.imports import readers
from equity.imports import selectors as import_selectors
from schools.scoping import outside_scope


def add_common_arguments(parser) -> None:
    parser.add_argument("path", help="The CSV file (UTF-8 or Windows-1252; comma or semicolon).")
    parser.add_argument(
        "--school",
        metavar="CODE",
        help="The school of rows that name none (and the district, when --district is not given).",
    )
    parser.add_argument(
        "--district",
        metavar="SLUG",
        help="The district to import into; needed when there are several and no --school.",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="Check every row and report; write nothing."
    )


def run(command: BaseCommand, function, *, path, school, district, **kwargs) -> None:
    """Resolve the place, import the file, report; CommandError (exit 1) on any error."""
    with outside_scope():
        try:
            district_obj, school_obj = import_selectors.resolve_place(school, district)
        except import_selectors.ImportSetupError as exc:
            raise CommandError(str(exc)) from None
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after the import
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
    with handle:
        result = function(handle, district=district_obj, default_school=school_obj, **kwargs)
    if not result.ok:
        for error in result.errors:
            command.stderr.write(str(error))
        hidden = result.error_count - len(result.errors)
        if hidden:
            command.stderr.write(f"… and {hidden:,} more problems not shown.")
        raise CommandError(result.summary)
    for line in result.details:
        command.stdout.write(line)
    command.stdout.write(command.style.SUCCESS(result.summary))


class Command(BaseCommand):
    help = (
        "Import devices from a CSV file: our own columns (pillarwise) or a Google Admin "
        "console / GAM Chrome device export (google-admin). Every row is checked first; "
        "any error writes nothing and exits 1. See docs/imports.md."
    )

    def add_arguments(self, parser):
        add_common_arguments(parser)
        parser.add_argument(
            "--format",
            choices=readers.FORMATS,
            help="The file's columns; detected from the header row when omitted.",
        )

    def handle(self, *args, path, school=None, district=None, format=None, dry_run=False, **o):
        run(
            self,
            device_import.import_devices,
            path=path,
            school=school,
            district=district,
            fmt=format,
            dry_run=dry_run,
        )
