from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crm.translations import CatalogError, catalog_files, compile_catalog


class Command(BaseCommand):
    help = _("Compile every translation catalog (locale/*/LC_MESSAGES/*.po) to .mo with Babel; "
             "GNU gettext is not needed.")
    # Runs at install time, before the database or the environment are ready.
    requires_system_checks = []

    def handle(self, *args, **options):
        catalogs = catalog_files(Path(directory) for directory in settings.LOCALE_PATHS)
        if not catalogs:
            raise CommandError(_("No translation catalogs found in %(dirs)s.")
                               % {"dirs": ", ".join(map(str, settings.LOCALE_PATHS))})
        for po in catalogs:
            try:
                mo = compile_catalog(po)
            except CatalogError as error:
                raise CommandError(_("Translation catalog not compiled:\n%(error)s")
                                   % {"error": error}) from error
            self.stdout.write(_("Compiled %(file)s") % {"file": mo})
