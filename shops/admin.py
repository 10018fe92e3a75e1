"""The shop connectors in the admin, read-only: the manager pages (shops.store_views) connect
and change stores. Secrets are never shown (not even encrypted); delivery bodies are shown
escaped, as text."""
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy, ngettext

from crm.admin_tools import ReadOnlyAdminMixin

from .models import ShopOrder, Store, SyncJob, WebhookDelivery
from .services.sync import sync_start

BODY_SHOWN = 100_000  # characters of a body shown on its page


@admin.register(Store)
class StoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    deletable = False
    list_display = ("name", "platform", "key", "active", "last_order_at", "last_webhook_at",
                    "last_poll_at", "last_error_kind", "last_error_at")
    list_filter = ("platform", "active", "last_error_kind")
    search_fields = ("name", "key", "base_url")
    # Everything but the encrypted credentials, the secret and the webhook token.
    fields = ("name", "platform", "key", "base_url", "active", "created_at", "updated_at",
              "last_order_at", "last_webhook_at", "last_poll_at", "poll_watermark",
              "last_error", "last_error_kind", "last_error_at")
    actions = ["poll_now", "backfill"]

    def _start(self, request: HttpRequest, queryset, kind: str) -> None:
        if not request.user.has_perm("shops.change_store"):
            self.message_user(request, gettext_lazy("You may not start store jobs."),
                              messages.ERROR)
            return
        count = 0
        for store in queryset.filter(active=True):
            sync_start(store=store, kind=kind, started_by=request.user)
            count += 1
        self.message_user(request, ngettext("%(count)d store job started (or already open).",
                                            "%(count)d store jobs started (or already open).",
                                            count) % {"count": count}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Poll for missed orders now"), permissions=["view"])
    def poll_now(self, request: HttpRequest, queryset) -> None:
        self._start(request, queryset, SyncJob.Kind.POLL)

    @admin.action(description=gettext_lazy("Backfill the order history"), permissions=["view"])
    def backfill(self, request: HttpRequest, queryset) -> None:
        self._start(request, queryset, SyncJob.Kind.BACKFILL)


@admin.register(ShopOrder)
class ShopOrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("order_id", "number", "store", "state", "purchase", "platform_updated_at",
                    "unrecorded_reason", "seen_at")
    list_filter = ("state", "store")
    search_fields = ("=order_id", "=number")
    list_select_related = ("store", "purchase")
    raw_id_fields = ("purchase",)
    show_full_result_count = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "store", "topic", "delivery_id", "status", "attempts",
                    "processed_at", "error")
    list_filter = ("status", "store", "topic")
    search_fields = ("=delivery_id",)
    list_select_related = ("store",)
    show_full_result_count = False
    fields = ("store", "topic", "delivery_id", "received_at", "status", "attempts",
              "processed_at", "error", "body_text")
    readonly_fields = ("body_text",)

    @admin.display(description=gettext_lazy("body"))
    def body_text(self, delivery: WebhookDelivery) -> str:
        text = bytes(delivery.body or b"").decode("utf-8", errors="replace")
        if len(text) > BODY_SHOWN:
            text = text[:BODY_SHOWN] + " …"
        return format_html('<pre class="shops-delivery-body">{}</pre>', text)


@admin.register(SyncJob)
class SyncJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "store", "kind", "status", "pages", "orders_seen",
                    "purchases_created", "total", "heartbeat_at", "finished_at", "error")
    list_filter = ("kind", "status", "store")
    list_select_related = ("store",)
