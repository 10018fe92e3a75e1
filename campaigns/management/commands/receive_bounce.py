import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from campaigns.bounces import report_record


class Command(BaseCommand):
    help = _("Read one report on standard input, a bounce (delivery status notification) or "
             "a spam complaint (feedback report), and record it: the address is never emailed "
             "again.")

    def handle(self, *args, **options):
        report = report_record(sys.stdin.buffer.read())
        self.stdout.write(report.describe())
