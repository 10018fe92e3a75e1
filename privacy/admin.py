from django.contrib import admin

from .models import PrivacyLog


@admin.register(PrivacyLog)
class PrivacyLogAdmin(admin.ModelAdmin):
    """Read-only: the audit trail of exports and erasures."""

    list_display = ("created_at", "action", "contact_ref", "actor_username")
    list_filter = ("action",)
    search_fields = ("=contact_ref", "actor_username")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
