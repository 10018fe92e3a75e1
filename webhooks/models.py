"""Endpoints that integrations register, and one delivery row per event and endpoint."""
import secrets
import socket
import uuid
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import conf
from .addresses import BlockedAddress, resolve_public


class EventType(models.TextChoices):
    STAGE_CHANGED = "contact.stage_changed", _("Contact changed stage")
    AT_RISK = "contact.at_risk", _("Contact became at risk")
    COUPON_REDEEMED = "coupon.redeemed", _("Coupon redeemed")


# Sent only by the admin's "send test event" action; nobody subscribes to it.
TEST_EVENT = "webhook.test"


def secret_generate() -> str:
    return secrets.token_urlsafe(32)


def validate_endpoint_url(url: str) -> None:
    """https only: payloads carry email addresses. http where WEBHOOKS_ALLOW_HTTP (dev, tests)."""
    scheme = urlsplit(url or "").scheme.lower()
    if scheme == "https" or (scheme == "http" and conf.allow_http()):
        return
    raise ValidationError(_("Enter an https:// address: webhooks carry personal data."),
                          code="https_required")


def validate_endpoint_host(url: str) -> None:
    """Refuse a host that is, or resolves to, a loopback, private, link-local or other
    non-public address (see webhooks.addresses), unless WEBHOOKS_ALLOW_PRIVATE_ADDRESSES.

    Checked when the endpoint is saved, so the manager hears of it at once, and again before
    every delivery, since what a name resolves to can change after it was saved."""
    if conf.allow_private_addresses():
        return
    parts = urlsplit(url or "")
    if not parts.hostname:
        return  # URLField's own validator reports a URL without a host
    try:
        resolve_public(parts.hostname, parts.port)  # .port raises ValueError if malformed
    except BlockedAddress:
        raise ValidationError(
            _("This address points into a private network (or at this server itself); "
              "webhooks are sent only to public addresses."), code="private_address") from None
    except (socket.gaierror, UnicodeError, ValueError):
        raise ValidationError(_("This host name could not be found."),
                              code="unknown_host") from None


def validate_events(events) -> None:
    known = set(EventType.values)
    if not isinstance(events, list) or not events or not set(events) <= known:
        raise ValidationError(_("Choose at least one of the known events."), code="invalid_events")


class WebhookEndpoint(models.Model):
    """A receiver URL and the events it wants; the secret signs every request to it."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500, validators=[validate_endpoint_url,
                                                                   validate_endpoint_host])
    secret = models.CharField(
        _("signing secret"), max_length=100, default=secret_generate, editable=False,
        help_text=_("Give this to the receiving system: it checks the X-CRM-Signature header "
                    "with it."),
    )
    events = models.JSONField(_("events"), default=list, validators=[validate_events])
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one endpoint: sent at least once until a 2xx, or given up on."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(WebhookEndpoint, verbose_name=_("endpoint"),
                                 on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(_("event"), max_length=40)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, editable=False)
    # A plain column, not a foreign key: erasure deletes these rows by it, and a delivery
    # must not block (or vanish with) anything on the contact's side.
    contact_id = models.BigIntegerField(_("contact id"), null=True, blank=True, db_index=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_status_code = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # X-CRM-Delivery is the event id: unique per endpoint, so receivers de-duplicate by it.
            models.UniqueConstraint(fields=["endpoint", "event_id"],
                                    name="webhook_delivery_event_unique"),
        ]
        indexes = [
            # The sweep's question: pending rows whose time has come.
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"
