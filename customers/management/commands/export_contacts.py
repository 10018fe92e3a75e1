from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from customers.scoring.export import ExportRunError, contacts_export_csv, scoring_run_for_export


class Command(BaseCommand):
    help = _("Write every contact with its purchase figures and current scores to a CSV file.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("Where to write the CSV ('-' for stdout)."))
        parser.add_argument("--run", metavar="ID", default=None,
                            help=_("Export the scores of this scoring run, or of the most "
                                   "recently finished one with 'latest', published or not (e.g. "
                                   "a score_contacts --as-of backtest). Default: the current "
                                   "scores."))

    def handle(self, *args, file: Path, run: str | None, **options):
        try:
            scoring_run = scoring_run_for_export(run)
        except ExportRunError as error:
            raise CommandError(str(error)) from error
        try:
            if str(file) == "-":
                count = contacts_export_csv(self.stdout, scoring_run)
            else:
                with file.open("w", encoding="utf-8", newline="") as out:
                    count = contacts_export_csv(out, scoring_run)
        except OSError as error:
            raise CommandError(_("Cannot write %(file)s: %(error)s")
                               % {"file": file, "error": error.strerror}) from error
        if str(file) != "-":
            self.stdout.write(_("Wrote %(count)d contacts to %(file)s.")
                              % {"count": count, "file": file})
