"""Managers' webhook tools: endpoints (secret shown read-only, test event, new secret) and the
deliveries, read-only, with a "retry now" action."""
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm.admin_tools import ReadOnlyAdminMixin

from .forms import WebhookEndpointForm
from .models import EventType, WebhookDelivery, WebhookEndpoint
from .services import deliveries_retry_now, endpoint_rotate_secret, endpoint_send_test


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "events_list", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    readonly_fields = ("secret", "created_at")
    actions = ["send_test_event", "rotate_secret"]

    def get_readonly_fields(self, request, obj=None):
        # The secret exists once the endpoint is saved; the add form shows nothing to copy.
        return self.readonly_fields if obj is not None else ()

    @admin.display(description=gettext_lazy("events"))
    def events_list(self, endpoint: WebhookEndpoint) -> str:
        labels = dict(EventType.choices)
        return ", ".join(str(labels.get(event, event)) for event in endpoint.events)

    @admin.action(description=gettext_lazy("Send a test event"), permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset) -> None:
        sent = 0
        for endpoint in queryset:
            try:
                endpoint_send_test(endpoint)
            except ValidationError as problem:
                self.message_user(request, f"{endpoint}: {' '.join(problem.messages)}",
                                  messages.WARNING)
            else:
                sent += 1
        if sent:
            self.message_user(request, ngettext(
                "Test event queued for %(count)d endpoint; see Webhook deliveries.",
                "Test events queued for %(count)d endpoints; see Webhook deliveries.",
                sent) % {"count": sent}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Generate a new secret (the receiver needs it)"),
                  permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset) -> None:
        for endpoint in queryset:
            endpoint_rotate_secret(endpoint)
        self.message_user(request, _("New secrets generated: give them to the receivers."),
                          messages.WARNING)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "endpoint", "event_type", "contact_id", "status", "attempts",
                    "next_attempt_at", "last_status_code", "last_error")
    list_filter = ("status", "event_type", "endpoint")
    search_fields = ("=event_id", "=contact_id")
    list_select_related = ("endpoint",)
    show_full_result_count = False
    actions = ["retry_now"]

    @admin.action(description=gettext_lazy("Retry now (not the delivered ones)"),
                  permissions=["view"])
    def retry_now(self, request: HttpRequest, queryset) -> None:
        if not request.user.has_perm("webhooks.change_webhookdelivery"):
            self.message_user(request, _("You may not retry deliveries."), messages.ERROR)
            return
        count = deliveries_retry_now(queryset.values_list("pk", flat=True))
        self.message_user(request, ngettext(
            "%(count)d delivery queued again.", "%(count)d deliveries queued again.",
            count) % {"count": count}, messages.SUCCESS)
