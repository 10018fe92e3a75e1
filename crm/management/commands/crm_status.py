from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from crm.health import all_checks


class Command(BaseCommand):
    help = _("Show whether the broker, a Celery worker and beat are reachable; exit 1 if not.")

    def handle(self, *args, **options):
        checks = all_checks()
        for check in checks:
            style = self.style.SUCCESS if check.ok else self.style.ERROR
            state = _("OK") if check.ok else _("FAILING")
            self.stdout.write(f"{check.label:<20} {style(state):<10} {check.detail}")
        if not all(check.ok for check in checks):
            raise SystemExit(1)
