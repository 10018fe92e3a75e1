"""What import_purchases and import_contacts share: arguments, file errors, the row-error
report and the exit status.

Exit codes: 0 imported (with --skip-invalid, also when rows were skipped), or a dry run;
1 nothing imported (rows with errors, or a file refused as a whole).
"""
from contextlib import nullcontext
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.imports.purchases import ImportRefused

ERRORS_SHOWN = 20


class CSVImportCommand(BaseCommand):
    """Subclasses run the import (`run_import`) and say what it did (`summarise_import`)."""

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("The CSV file."))
        parser.add_argument("--skip-invalid", action="store_true",
                            help=_("Import the valid rows even if some rows have errors."))
        parser.add_argument("--errors-file", type=Path,
                            help=_("Write every row error to this CSV (line, email, reasons)."))

    def run_import(self, *, file: Path, errors_file, skip_invalid: bool, **options):
        raise NotImplementedError

    def summarise_import(self, result) -> None:
        raise NotImplementedError

    def handle(self, *args, file: Path, skip_invalid: bool, errors_file: Path | None,
               **options):
        if not file.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": file})
        try:
            report = errors_file.open("w", newline="", encoding="utf-8") if errors_file else None
        except OSError as error:
            raise CommandError(_("Cannot write %(path)s: %(error)s")
                               % {"path": errors_file, "error": error.strerror}) from None
        try:
            with report or nullcontext():
                result = self.run_import(file=file, errors_file=report,
                                         skip_invalid=skip_invalid, **options)
        except ImportRefused as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(_("Cannot read %(path)s: %(error)s")
                               % {"path": file, "error": error.strerror}) from None
        self._row_errors(result, errors_file)
        self.summarise_import(result)
        if not (result.imported or getattr(result, "dry_run", False)):
            raise CommandError(ngettext(
                "Nothing was imported: %(count)d row has errors. Fix it, or use --skip-invalid "
                "to import the %(valid)d valid rows.",
                "Nothing was imported: %(count)d rows have errors. Fix them, or use "
                "--skip-invalid to import the %(valid)d valid rows.",
                result.rows_invalid,
            ) % {"count": result.rows_invalid, "valid": result.rows_valid})

    def _row_errors(self, result, errors_file: Path | None) -> None:
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
