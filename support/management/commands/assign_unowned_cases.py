from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from support.services import cases_assign_unowned


class Command(BaseCommand):
    help = _("Give every open support case without an owner one: the contact's owner, else "
             "the next person in turn (CRM_SUPPORT_ASSIGNMENT).")

    def handle(self, *args, **options):
        count = cases_assign_unowned()
        self.stdout.write(_("%(count)d open cases assigned.") % {"count": count})
