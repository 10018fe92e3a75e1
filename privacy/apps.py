from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from crm.personal_data import register

        from .personal_data import SECTIONS

        register(*SECTIONS)  # what this app holds about a person: privacy exports and erases it

        from .customer_hooks import register as register_customer_hooks

        register_customer_hooks()  # export and erasure in the Contact admin (customers.hooks)
