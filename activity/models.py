"""What contacts did on the shop's website (viewed a product, abandoned a cart, ...).

Events arrive from integrations (POST /api/events/), are shown on the contact's page, start
event campaigns ("After a website action") and filter audiences (campaigns.audience).
"""
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Contact


class EventKind(models.TextChoices):
    VIEWED_PRODUCT = "viewed_product", _("Viewed a product")
    ADDED_TO_CART = "added_to_cart", _("Added to cart")
    ABANDONED_CART = "abandoned_cart", _("Abandoned a cart")
    STARTED_CHECKOUT = "started_checkout", _("Started checkout")
    SIGNED_UP_NEWSLETTER = "signed_up_newsletter", _("Signed up for the newsletter")
    VIEWED_PAGE = "viewed_page", _("Viewed a page")
    SEARCHED = "searched", _("Searched")
    CUSTOM = "custom", _("Custom action")


class WebsiteEvent(models.Model):
    Kind = EventKind

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="website_events",
                                db_index=False)  # websiteevent_contact_time_idx leads with it
    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    name = models.CharField(
        _("name"), max_length=200, blank=True,
        help_text=_("A short label: the product's name, the page, the search words, or the "
                    "name of a custom action."))
    # Bounded by activity.services.event_clean (number of keys, size, flat values).
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)
    source = models.CharField(_("source"), max_length=32, default="api",
                              help_text=_("Where the event came from, such as the shop's name."))
    external_id = models.CharField(  # noqa: DJ001 - NULL, not "": unique only when given
        _("external id"), max_length=128, null=True, blank=True,
        help_text=_("The event's id in the source system; unique per source, so a retry is "
                    "recorded once."))

    class Meta:
        verbose_name = _("website event")
        verbose_name_plural = _("website events")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=Q(external_id__isnull=False),
                name="websiteevent_source_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="websiteevent_contact_time_idx"),
            models.Index(fields=["kind", "occurred_at"], name="websiteevent_kind_time_idx"),
        ]

    def __str__(self) -> str:
        label = self.get_kind_display()
        return f"{label}: {self.name}" if self.name else str(label)
