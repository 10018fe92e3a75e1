from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopsConfig(AppConfig):
    """Shop connectors: orders, refunds, customers and their consent flow in from a connected
    online store (WooCommerce, Shopify, IdeaSoft) by webhook, backfill and reconciliation poll,
    through the purchase service like every other door."""

    name = "shops"
    verbose_name = _("Shop connectors")
