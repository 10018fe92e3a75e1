from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivityConfig(AppConfig):
    name = "activity"
    verbose_name = _("Website activity")

    def ready(self) -> None:
        from crm.personal_data import register

        from .personal_data import SECTIONS

        register(*SECTIONS)  # what this app holds about a person: privacy exports and erases it

        from .scoring_features import register as register_scoring_features

        register_scoring_features()  # attributes for the buy-again model (customers.hooks)
