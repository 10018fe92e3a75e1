from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _seed_wordings(sender, **kwargs) -> None:
    """After migrate or a test flush: make sure a consent wording exists to agree to."""
    from .consent.models import ConsentWording
    from .consent.wordings import seed_initial_wordings

    seed_initial_wordings(ConsentWording)


def _purchases_stored() -> str | None:
    """Why the shop's base currency or time zone may not change: purchases store both."""
    from django.utils.translation import gettext

    from .models import Purchase

    return gettext("Purchases are stored") if Purchase.objects.exists() else None


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        post_migrate.connect(_seed_wordings, sender=self,
                             dispatch_uid="customers.seed_consent_wordings")

        from crm.personal_data import register

        from . import search  # noqa: F401  registers the SQLite search function
        from .personal_data import SECTIONS

        register(*SECTIONS)  # what this app holds about a person: privacy exports and erases it

        from crm.shop import register_change_blocker

        register_change_blocker(_purchases_stored)  # amount_base and purchased_on are stored
