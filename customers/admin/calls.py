"""Logged calls in the admin: a read-only record for managers (calls are logged from the
call list and the contact page, through customers.services.calls)."""
from django.contrib import admin

from crm.admin_tools import ReadOnlyAdminMixin

from ..models import CallLog


@admin.register(CallLog)
class CallLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("called_at", "contact", "user", "outcome", "note")
    list_filter = ("outcome",)
    list_select_related = ("contact", "user")
    date_hierarchy = "called_at"
    search_fields = ("contact__email", "user__username")
    raw_id_fields = ("contact", "user")
