from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.services.consistency import contacts_rederive_stats


class Command(BaseCommand):
    help = _("Re-derive every contact's purchase figures from its purchases and report drift.")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help=_("Only report drift; change nothing. Exit code 1 if any."))

    def handle(self, *args, check: bool, **options):
        report = contacts_rederive_stats(fix=not check)
        if report.days_corrected:
            self.stdout.write(ngettext(
                "%(count)d purchase was on another day in the shop's time zone than recorded.",
                "%(count)d purchases were on another day in the shop's time zone than recorded.",
                report.days_corrected) % {"count": report.days_corrected})
        self.stdout.write(_("Checked %(checked)d contacts, %(drifted)d with drift.")
                          % {"checked": report.checked, "drifted": report.drifted})
        if report.drifted or report.days_corrected:
            if report.drifted:
                self.stdout.write(_("First drifted contact ids: %(ids)s")
                                  % {"ids": ", ".join(map(str, report.sample_ids))})
            if check:
                raise SystemExit(1)
            self.stdout.write(self.style.SUCCESS(_("Fixed.")))
