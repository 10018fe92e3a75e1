from django.contrib import admin

from crm.admin_tools import ReadOnlyAdminMixin

from .models import PrivacyLog


@admin.register(PrivacyLog)
class PrivacyLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the audit trail of exports and erasures."""

    deletable = False
    list_display = ("created_at", "action", "contact_ref", "actor_username")
    list_filter = ("action",)
    search_fields = ("=contact_ref", "actor_username")
    date_hierarchy = "created_at"
