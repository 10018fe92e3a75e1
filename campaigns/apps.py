from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    """Loyalty email campaigns (templates, audiences, outbox, coupons): see issue 4."""

    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from crm.personal_data import register

        from .personal_data import SECTIONS

        register(*SECTIONS)  # what this app holds about a person: privacy exports and erases it

        from .customer_hooks import register as register_customer_hooks

        register_customer_hooks()  # codes, purchase events: customers.hooks calls campaigns

        from .activity_hooks import register as register_activity_hooks

        register_activity_hooks()  # "After a website action" campaigns: activity.hooks

        from .scoring_features import register as register_scoring_features

        register_scoring_features()  # attributes for the buy-again model (customers.hooks)

        from . import dkim  # noqa: F401 - registers the DKIM key check (campaigns.E001)
