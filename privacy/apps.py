from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _seed_wordings(sender, **kwargs) -> None:
    """After migrate or a test flush: make sure a consent wording exists to agree to."""
    from .models import ConsentWording
    from .wordings import seed_initial_wordings

    seed_initial_wordings(ConsentWording)


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        post_migrate.connect(_seed_wordings, sender=self,
                             dispatch_uid="privacy.seed_consent_wordings")

        from crm.personal_data import register

        from .personal_data import SECTIONS

        register(*SECTIONS)  # what this app holds about a person: privacy exports and erases it

        from .customer_hooks import register as register_customer_hooks

        register_customer_hooks()  # export and erasure in the Contact admin (customers.hooks)
