"""`manage.py import_contacts FILE.csv`: the command-line face of customers.imports.contacts.

Exit codes: 0 imported (with --skip-invalid, also when rows were skipped), or a dry run;
1 nothing imported (rows with errors, or a file refused as a whole).
"""
from django.utils.translation import gettext as _

from customers.imports.contacts import ContactImportResult, contacts_import_csv
from customers.management.csv_import_command import CSVImportCommand


class Command(CSVImportCommand):
    help = _("Import contacts from a UTF-8 CSV file with the column email and optionally "
             "first_name, last_name, phone, marketing_consent, language. Empty cells change "
             "nothing; re-importing a file changes nothing.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--dry-run", action="store_true",
                            help=_("Check the file and count what would change; write nothing."))

    def run_import(self, *, file, errors_file, skip_invalid: bool, dry_run: bool,
                   **options) -> ContactImportResult:
        return contacts_import_csv(file=file, skip_invalid=skip_invalid, errors_file=errors_file,
                                   dry_run=dry_run)

    def summarise_import(self, result: ContactImportResult) -> None:
        if result.imported or (result.dry_run and result.rows_valid):
            summary = (_("Contacts: %(created)d new, %(updated)d updated, %(unchanged)d "
                         "unchanged; consent changed on %(consent)d.")
                       % {"created": result.contacts_created, "updated": result.contacts_updated,
                          "unchanged": result.contacts_unchanged,
                          "consent": result.consent_changed})
            if result.dry_run:
                summary = _("Dry run, nothing written.") + " " + summary
            self.stdout.write(self.style.SUCCESS(summary))
