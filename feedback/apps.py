from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """Listening to customers: satisfaction surveys (NPS) sent through the campaigns outbox."""

    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from crm.personal_data import register

        from .personal_data import SECTIONS

        register(*SECTIONS)  # what this app holds about a person: privacy exports and erases it

        from .campaign_hooks import register as register_campaign_hooks

        register_campaign_hooks()  # audiences, pauses, survey links in emails (campaigns.hooks)

        from .scoring_features import register as register_scoring_features

        register_scoring_features()  # attributes for the buy-again model (customers.hooks)

        from .customer_hooks import register as register_customer_hooks

        register_customer_hooks()  # "not interested" calls pause promotions (customers.hooks)
