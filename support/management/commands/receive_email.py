import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from campaigns.bounces import is_report, parse, report_record
from support.inbound import email_receive


class Command(BaseCommand):
    help = _("Read one email message on standard input and open a support case from it.")

    def handle(self, *args, **options):
        raw = sys.stdin.buffer.read()
        message = parse(raw)
        if is_report(message):  # a bounce or a spam complaint, not a customer writing
            self.stdout.write(report_record(message).describe())
            return
        try:
            received = email_receive(raw)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        case = received.case
        if received.threaded:
            self.stdout.write(_("Answer added to case %(id)d.") % {"id": case.pk})
            return
        self.stdout.write(_("Case %(id)d opened for %(email)s.") % {
            "id": case.pk, "email": case.contact.email})
