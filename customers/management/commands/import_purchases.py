"""`manage.py import_purchases FILE.csv`: the command-line face of customers.importing.

Exit codes: 0 imported (with --skip-invalid, also when rows were skipped); 1 nothing imported
(rows with errors, or a file refused as a whole).
"""
from contextlib import nullcontext
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.importing import ImportRefused, ImportResult, purchases_import_csv

ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = _("Import purchases (and their contacts) from a UTF-8 CSV file with the columns "
             "email, purchased_at, amount, currency and optionally external_id, first_name, "
             "last_name, channel, quantity, code. Re-importing a file changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("The CSV file."))
        parser.add_argument("--source", default="csv",
                            help=_("Recorded as the purchases' source (default: csv)."))
        parser.add_argument("--skip-invalid", action="store_true",
                            help=_("Import the valid rows even if some rows have errors."))
        parser.add_argument("--errors-file", type=Path,
                            help=_("Write every row error to this CSV (line, email, reasons)."))

    def handle(self, *args, file: Path, source: str, skip_invalid: bool,
               errors_file: Path | None, verbosity: int, **options):
        if not file.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": file})
        try:
            report = errors_file.open("w", newline="", encoding="utf-8") if errors_file else None
        except OSError as error:
            raise CommandError(_("Cannot write %(path)s: %(error)s")
                               % {"path": errors_file, "error": error.strerror}) from None
        try:
            with report or nullcontext():
                result = purchases_import_csv(
                    file=file, source=source, skip_invalid=skip_invalid, errors_file=report,
                    progress=self._progress if verbosity >= 2 else None)
        except ImportRefused as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(_("Cannot read %(path)s: %(error)s")
                               % {"path": file, "error": error.strerror}) from None
        self._summarise(result, errors_file)
        if not result.imported:
            raise CommandError(ngettext(
                "Nothing was imported: %(count)d row has errors. Fix it, or use --skip-invalid "
                "to import the %(valid)d valid rows.",
                "Nothing was imported: %(count)d rows have errors. Fix them, or use "
                "--skip-invalid to import the %(valid)d valid rows.",
                result.rows_invalid,
            ) % {"count": result.rows_invalid, "valid": result.rows_valid})

    def _progress(self, rows: int) -> None:
        self.stderr.write(_("%(rows)d rows read…") % {"rows": rows})

    def _summarise(self, result: ImportResult, errors_file: Path | None) -> None:
        self.stdout.write(_("Rows read: %(read)d (valid: %(valid)d, with errors: %(invalid)d).")
                          % {"read": result.rows_read, "valid": result.rows_valid,
                             "invalid": result.rows_invalid})
        for line, email, reasons in result.errors[:ERRORS_SHOWN]:
            self.stderr.write(_("Line %(line)d (%(email)s): %(reasons)s")
                              % {"line": line, "email": email or "-",
                                 "reasons": " ".join(reasons)})
        hidden = result.rows_invalid - min(len(result.errors), ERRORS_SHOWN)
        if hidden > 0:
            self.stderr.write(_("… and %(count)d more rows with errors.") % {"count": hidden}
                              + ("" if errors_file else " " + _("Use --errors-file to see all.")))
        if errors_file:
            self.stdout.write(_("All row errors are in %(path)s.") % {"path": errors_file})
        if result.imported:
            self.stdout.write(self.style.SUCCESS(
                _("Imported: %(created)d new purchases, %(existing)d already recorded, "
                  "%(duplicates)d duplicate rows; %(contacts)d new contacts.")
                % {"created": result.purchases_created, "existing": result.purchases_existing,
                   "duplicates": result.rows_duplicate, "contacts": result.contacts_created}))
            if result.rows_invalid:
                self.stdout.write(self.style.WARNING(
                    _("%(count)d rows with errors were skipped.") % {"count": result.rows_invalid}))
