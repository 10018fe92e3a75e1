"""Website events are written by integrations only: managers read them here."""
from django.contrib import admin

from .models import WebsiteEvent


@admin.register(WebsiteEvent)
class WebsiteEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "contact", "kind", "name", "source", "received_at")
    list_filter = ("kind", "source")
    search_fields = ("contact__email", "name", "external_id")
    list_select_related = ("contact",)
    raw_id_fields = ("contact",)
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
