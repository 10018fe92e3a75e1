from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from crm.health import all_checks


class Command(BaseCommand):
    help = _("Show whether the broker, a Celery worker and beat are reachable; exit 1 if not.")

    def handle(self, *args, **options):
        checks = all_checks()
        for check in checks:
            # A warning (a standby beat) is shown but does not fail the command.
            warning = check.ok and getattr(check, "warning", False)
            if not check.ok:
                style, state = self.style.ERROR, _("FAILING")
            elif warning:
                style, state = self.style.WARNING, _("WARNING")
            else:
                style, state = self.style.SUCCESS, _("OK")
            self.stdout.write(f"{check.label:<20} {style(state):<10} {check.detail}")
        if not all(check.ok for check in checks):
            raise SystemExit(1)
