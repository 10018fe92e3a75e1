"""The consent ledger's admin (registered by importing it: customers.admin)."""
from django.contrib import admin

from crm.admin_tools import ReadOnlyAdminMixin

from .models import ConsentRecord, ConsentWording


@admin.register(ConsentWording)
class ConsentWordingAdmin(admin.ModelAdmin):
    """Managers publish new versions; a wording someone agreed to is read-only for good."""

    list_display = ("purpose", "language", "version", "published_at", "created_by")
    list_filter = ("purpose", "language")
    fields = ("purpose", "language", "version", "text", "published_at", "created_by")
    readonly_fields = ("created_by",)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_used:
            return self.fields
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.is_used)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the ledger is written by customers.consent.services.consent_record only."""

    deletable = False
    list_display = ("occurred_at", "contact_id", "given", "method", "source", "language",
                    "wording", "recorded_by")
    list_filter = ("given", "method", "purpose", "language", "wording")
    search_fields = ("=contact__id", "source")
    date_hierarchy = "occurred_at"
    list_select_related = ("wording", "recorded_by")
