"""Connected stores, the webhook deliveries they send, the orders seen, and sync jobs.

A store's orders become purchases with source "shop:<key>" and external id the platform's
order id (unique together: customers.Purchase), so a backfill, a webhook and a poll of the same
order record it once. ShopOrder keeps what the connector knows of each order beyond the
purchase: the platform's last update time (older deliveries are ignored), its state, the refunds
applied and which purchase line each platform line became (refunds name lines).
"""
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Purchase

from . import crypto
from .platforms import platform_choices, platform_for
from .platforms.base import Platform, StoreAccess

SOURCE_PREFIX = "shop:"
KEY_MAX_LENGTH = 26  # "shop:" + key fits Purchase.source (32)


def new_webhook_token() -> str:
    return secrets.token_urlsafe(24)


class Store(models.Model):
    platform = models.CharField(_("platform"), max_length=32, choices=platform_choices)
    name = models.CharField(_("name"), max_length=100)
    key = models.SlugField(
        _("key"), max_length=KEY_MAX_LENGTH, unique=True,
        help_text=_("A short name for this store, never changed: its orders and products are "
                    "kept under it."))
    base_url = models.URLField(_("store address"), max_length=255)
    credentials_encrypted = models.TextField(editable=False, blank=True, default="")
    webhook_secret_encrypted = models.TextField(editable=False, blank=True, default="")
    # The unguessable part of the store's webhook address (/shops/webhooks/<token>/).
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token,
                                     editable=False)
    active = models.BooleanField(
        _("active"), default=True,
        help_text=_("An inactive store's webhooks are refused and it is not polled."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Status, for the stores page.
    last_order_at = models.DateTimeField(_("last order seen"), null=True, blank=True,
                                         editable=False)
    last_webhook_at = models.DateTimeField(_("last webhook"), null=True, blank=True,
                                           editable=False)
    last_poll_at = models.DateTimeField(_("last poll"), null=True, blank=True, editable=False)
    # The next poll asks for orders updated since this (the last poll's start, less a margin).
    poll_watermark = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, default="", editable=False)
    last_error_kind = models.CharField(max_length=16, blank=True, default="", editable=False)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True,
                                         editable=False)

    class Meta:
        verbose_name = _("connected store")
        verbose_name_plural = _("connected stores")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        """Its purchases' source (customers.Purchase.source)."""
        return f"{SOURCE_PREFIX}{self.key}"

    @property
    def platform_impl(self) -> Platform:
        return platform_for(self.platform)

    def credentials(self) -> dict[str, str]:
        return crypto.decrypt(self.credentials_encrypted)

    def set_credentials(self, values: dict[str, str]) -> None:
        self.credentials_encrypted = crypto.encrypt(values)

    def webhook_secret(self) -> str:
        return crypto.decrypt(self.webhook_secret_encrypted).get("secret", "")

    def set_webhook_secret(self, secret: str) -> None:
        self.webhook_secret_encrypted = crypto.encrypt({"secret": secret}) if secret else ""

    def access(self) -> StoreAccess:
        """What the platform module needs, decrypted (crypto.CredentialsUnreadable if not)."""
        return StoreAccess(key=self.key, base_url=self.base_url.rstrip("/"),
                           credentials=self.credentials(), webhook_secret=self.webhook_secret(),
                           save_credentials=self._save_credentials,
                           renewal=self._credentials_renewal)

    def _save_credentials(self, values: dict[str, str]) -> None:
        self.set_credentials(values)
        Store.objects.filter(pk=self.pk).update(credentials_encrypted=self.credentials_encrypted)

    @contextmanager
    def _credentials_renewal(self) -> Iterator[dict[str, str]]:
        """StoreAccess.renewal: the store's row locked (a second process renewing waits here,
        then finds the new tokens) and its credentials as stored now."""
        with transaction.atomic():
            stored = (Store.objects.select_for_update().filter(pk=self.pk)
                      .values_list("credentials_encrypted", flat=True).get())
            self.credentials_encrypted = stored
            yield self.credentials()


class ShopOrder(models.Model):
    """One order of a store as the connector last saw it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Not paid yet")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    store = models.ForeignKey(Store, verbose_name=_("store"), on_delete=models.CASCADE,
                              related_name="orders", db_index=False)
    order_id = models.CharField(_("order id"), max_length=128)
    number = models.CharField(_("order number"), max_length=64, blank=True, default="")
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    # The platform's updated_at of the version applied: an older delivery changes nothing.
    platform_updated_at = models.DateTimeField(_("updated in the store at"))
    purchase = models.OneToOneField(Purchase, verbose_name=_("purchase"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    # {platform line id: purchase line id}: refunds name the platform's lines.
    line_map = models.JSONField(default=dict, blank=True)
    # The platform's refund ids applied to the purchase: a refund delivered twice counts once.
    refund_ids = models.JSONField(default=list, blank=True)
    # Why a paid order is not a purchase (no email, lines refused): shown to managers.
    unrecorded_reason = models.CharField(_("not recorded because"), max_length=500, blank=True,
                                         default="")
    seen_at = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        verbose_name = _("store order")
        verbose_name_plural = _("store orders")
        constraints = [
            models.UniqueConstraint(fields=["store", "order_id"], name="shop_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.store.key} {self.number or self.order_id}"


class WebhookDelivery(models.Model):
    """A webhook delivery as received, stored before it is answered: the worker reads it
    (shops.tasks), and a delivery the worker never got is picked up by the sweep."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    store = models.ForeignKey(Store, verbose_name=_("store"), on_delete=models.CASCADE,
                              related_name="deliveries", db_index=False)
    topic = models.CharField(_("topic"), max_length=64)
    # The platform's delivery id; else a hash of the body: the same delivery twice is one row.
    delivery_id = models.CharField(_("delivery id"), max_length=128)
    body = models.BinaryField(_("body"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "delivery_id"],
                                    name="shop_delivery_unique"),
        ]
        indexes = [
            models.Index(fields=["received_at"], name="shop_delivery_waiting_idx",
                         condition=Q(status="received")),
            models.Index(fields=["store", "received_at"], name="shop_delivery_store_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.store.key} {self.topic} {self.delivery_id}"


class SyncJob(models.Model):
    """A backfill of a store's whole order history, or a poll of what changed since the last:
    page by page, the cursor stored after each page, so a crash or redeploy carries on."""

    class Kind(models.TextChoices):
        BACKFILL = "backfill", _("Backfill of the order history")
        POLL = "poll", _("Reconciliation poll")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        WAITING = "waiting", _("Waiting (the store asked to slow down)")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    store = models.ForeignKey(Store, verbose_name=_("store"), on_delete=models.CASCADE,
                              related_name="jobs")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.QUEUED)
    cursor = models.TextField(_("cursor"), blank=True, default="")
    updated_since = models.DateTimeField(_("changes since"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    orders_seen = models.PositiveIntegerField(_("orders read"), default=0)
    purchases_created = models.PositiveIntegerField(_("purchases recorded"), default=0)
    total = models.PositiveIntegerField(_("orders in all"), null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")
    # Times in a row the store's API was unavailable: the job waits and tries again, a few
    # times, then fails.
    retries = models.PositiveSmallIntegerField(_("retries"), default=0)

    class Meta:
        verbose_name = _("store sync job")
        verbose_name_plural = _("store sync jobs")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One unfinished job of a kind per store: starting twice joins the running one.
            models.UniqueConstraint(fields=["store", "kind"], name="shop_job_one_open",
                                    condition=Q(status__in=["queued", "running", "waiting"])),
        ]

    def __str__(self) -> str:
        return f"{self.store.key} {self.kind} {self.status}"

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.orders_seen / self.total))
