from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from customers.services import contacts_rederive_stats


class Command(BaseCommand):
    help = _("Re-derive every contact's purchase figures from its purchases and report drift.")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help=_("Only report drift; change nothing. Exit code 1 if any."))

    def handle(self, *args, check: bool, **options):
        report = contacts_rederive_stats(fix=not check)
        self.stdout.write(_("Checked %(checked)d contacts, %(drifted)d with drift.")
                          % {"checked": report.checked, "drifted": report.drifted})
        if report.drifted:
            self.stdout.write(_("First drifted contact ids: %(ids)s")
                              % {"ids": ", ".join(map(str, report.sample_ids))})
            if check:
                raise SystemExit(1)
            self.stdout.write(self.style.SUCCESS(_("Fixed.")))
