import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from crm.public_url import check_public_url_port
from accounts.roles import MANAGERS
from dashboard.management.commands.load_demo_data import DEMO_USERS, LOGINS_FILE


class Command(BaseCommand):
    help = _("Print the demo's address and logins (used by `make run`).")

    def handle(self, *args, **options):
        port = os.environ.get("PORT", "8000")
        logins = json.loads(LOGINS_FILE.read_text()) if LOGINS_FILE.exists() else {}
        lines = ["", _("CRM demo is starting at http://127.0.0.1:%(port)s/") % {"port": port}]
        for username, _first, _last, role in DEMO_USERS:  # every demo login, none left out
            if username not in logins:
                continue
            line = (_("  Manager (admin):     %(user)s / %(pw)s") if role == MANAGERS
                    else _("  Sales staff:         %(user)s / %(pw)s"))
            lines.append(line % {"user": username, "pw": logins[username]})
        lines.append(_("  Links in emails:     %(url)s (CRM_PUBLIC_URL)")
                     % {"url": settings.CRM_PUBLIC_URL})
        # The same warning runserver's system checks give, where it cannot be missed.
        lines += [f"  {warning.msg} {warning.hint}" for warning in check_public_url_port()]
        lines += [_("  Database: %(engine)s; stop everything with Ctrl-C.")
                  % {"engine": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]}, ""]
        self.stdout.write("\n".join(lines))
