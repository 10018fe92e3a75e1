from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Outgoing webhooks: signed HTTP POSTs to integrations when something happens to a contact."""

    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import WebhookEndpoint
        from .selectors import forget_endpoints

        post_save.connect(forget_endpoints, sender=WebhookEndpoint,
                          dispatch_uid="webhooks-forget-endpoints-save")
        post_delete.connect(forget_endpoints, sender=WebhookEndpoint,
                            dispatch_uid="webhooks-forget-endpoints-delete")

        from crm.personal_data import register

        from .personal_data import SECTIONS

        register(*SECTIONS)  # what this app holds about a person: privacy exports and erases it

        from customers import hooks

        from .services import stage_changes_watch

        hooks.stage_watch.register(stage_changes_watch)  # contact.stage_changed deliveries
