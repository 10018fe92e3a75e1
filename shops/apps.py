from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopsConfig(AppConfig):
    """Shop connectors: orders, refunds, customers and their consent flow in from a connected
    online store (WooCommerce, Shopify, IdeaSoft) by webhook, backfill and reconciliation poll,
    through the purchase service like every other door."""

    name = "shops"
    verbose_name = _("Shop connectors")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from crm.personal_data import register

        from . import checks  # noqa: F401 - registers the system checks
        from .models import Store
        from .personal_data import SECTIONS
        from .webhook_tokens import forget

        register(*SECTIONS)  # what this app holds about a person: privacy exports and erases it
        post_save.connect(forget, sender=Store,
                          dispatch_uid="shops-forget-store-tokens-save")
        post_delete.connect(forget, sender=Store,
                            dispatch_uid="shops-forget-store-tokens-delete")
