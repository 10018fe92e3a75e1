from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from shops.crypto import CredentialsUnreadable
from shops.services.stores import stores_rotate_key


class Command(BaseCommand):
    help = _("Re-encrypt every connected store's credentials with the first key of "
             "CRM_SHOPS_ENCRYPTION_KEYS (after putting a new key in front; then remove the "
             "old one).")

    def handle(self, *args, **options):
        try:
            count = stores_rotate_key()
        except CredentialsUnreadable as error:
            raise CommandError(str(error)) from error
        self.stdout.write(_("Re-encrypted the credentials of %(count)d stores.")
                          % {"count": count})
