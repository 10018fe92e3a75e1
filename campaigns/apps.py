from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    """Loyalty email campaigns (templates, audiences, outbox, coupons): see issue 4."""

    name = "campaigns"
    verbose_name = _("Campaigns")
