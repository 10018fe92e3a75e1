"""`manage.py import_purchases FILE.csv`: the command-line face of customers.imports.purchases.

Exit codes: 0 imported (with --skip-invalid, also when rows were skipped); 1 nothing imported
(rows with errors, or a file refused as a whole).
"""
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from customers.imports.purchases import ImportResult, purchases_import_csv
from customers.management.csv_import_command import CSVImportCommand
from customers.normalise import AUTO, DATE_ORDERS


class Command(CSVImportCommand):
    help = _("Import purchases (and their contacts) from a UTF-8 CSV file with the columns "
             "email, purchased_at, amount, currency and optionally external_id, first_name, "
             "last_name, channel, quantity, code. Re-importing a file changes nothing.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--source", default="csv",
                            help=_("Recorded as the purchases' source (default: csv)."))
        parser.add_argument("--date-order", choices=DATE_ORDERS, default=AUTO,
                            help=_("How dates like 05.12.2026 read: day-first, month-first, "
                                   "or auto (default: day-first for a shop whose language or "
                                   "time zone writes them so, else as the file proves it; a "
                                   "file that does not tell is refused)."))
        parser.add_argument("--lines", type=Path, metavar="FILE", help=_(
            "The orders' lines as a CSV file of their own (external_id or order_id, sku, "
            "product, category, quantity, unit_price, discount); FILE.csv then holds one row "
            "per order."))
        parser.add_argument("--historical", action="store_true",
                            help=_("Load past orders: record purchases, redeemed codes, "
                                   "referrals and scores, but fire no event campaign, webhook "
                                   "or referral reward."))

    def run_import(self, *, file, errors_file, skip_invalid: bool, source: str, verbosity: int,
                   historical: bool = False, date_order: str = AUTO,
                   lines: Path | None = None, **options) -> ImportResult:
        if lines is not None and not lines.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": lines})
        return purchases_import_csv(file=file, source=source, skip_invalid=skip_invalid,
                                    errors_file=errors_file, historical=historical,
                                    date_order=date_order, lines_file=lines,
                                    progress=self._progress if verbosity >= 2 else None)

    def _progress(self, rows: int) -> None:
        self.stderr.write(_("%(rows)d rows read…") % {"rows": rows})

    def summarise_import(self, result: ImportResult) -> None:
        if result.imported:
            self.stdout.write(self.style.SUCCESS(
                _("Imported: %(created)d new purchases, %(existing)d already recorded, "
                  "%(duplicates)d duplicate rows; %(contacts)d new contacts.")
                % {"created": result.purchases_created, "existing": result.purchases_existing,
                   "duplicates": result.rows_duplicate, "contacts": result.contacts_created}))
            if result.rows_invalid:
                self.stdout.write(self.style.WARNING(
                    _("%(count)d rows with errors were skipped.") % {"count": result.rows_invalid}))
