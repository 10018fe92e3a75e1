from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from customers.scoring.export import contacts_export_csv


class Command(BaseCommand):
    help = _("Write every contact with its purchase figures and current scores to a CSV file.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("Where to write the CSV ('-' for stdout)."))

    def handle(self, *args, file: Path, **options):
        try:
            if str(file) == "-":
                count = contacts_export_csv(self.stdout)
            else:
                with file.open("w", encoding="utf-8", newline="") as out:
                    count = contacts_export_csv(out)
        except OSError as error:
            raise CommandError(_("Cannot write %(file)s: %(error)s")
                               % {"file": file, "error": error.strerror}) from error
        if str(file) != "-":
            self.stdout.write(_("Wrote %(count)d contacts to %(file)s.")
                              % {"count": count, "file": file})
