from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    """Support cases: what customers need solved, owned by staff, measured against targets."""

    name = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from crm.personal_data import register

        from .personal_data import SECTIONS

        register(*SECTIONS)  # what this app holds about a person: privacy exports and erases it

        from .campaign_hooks import register as register_campaign_hooks

        register_campaign_hooks()  # the open-case audience criterion (campaigns.hooks)

        from .scoring_features import register as register_scoring_features

        register_scoring_features()  # attributes for the buy-again model (customers.hooks)
