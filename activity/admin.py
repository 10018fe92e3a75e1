"""Website events are written by integrations only: managers read them here."""
from django.contrib import admin

from crm.admin_tools import ReadOnlyAdminMixin

from .models import WebsiteEvent


@admin.register(WebsiteEvent)
class WebsiteEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "contact", "kind", "name", "source", "received_at")
    list_filter = ("kind", "source")
    search_fields = ("contact__email", "name", "external_id")
    list_select_related = ("contact",)
    raw_id_fields = ("contact",)
    date_hierarchy = "occurred_at"
    show_full_result_count = False
