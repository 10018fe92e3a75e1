import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from campaigns.bounces import bounce_record


class Command(BaseCommand):
    help = _("Read one delivery status notification (a bounce report) on standard input and "
             "record the bounce: the email is marked bounced and the address suppressed.")

    def handle(self, *args, **options):
        report = bounce_record(sys.stdin.buffer.read())
        self.stdout.write(report.describe())
