from django.contrib import admin

from .models import Case, ServiceTarget


@admin.register(ServiceTarget)
class ServiceTargetAdmin(admin.ModelAdmin):
    list_display = ("priority", "first_response_hours", "resolution_hours")


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("subject", "contact", "verified", "priority", "status", "owner",
                    "created_at", "first_response_at", "solved_at")
    list_filter = ("status", "priority", "channel", "verified")
    search_fields = ("subject", "contact__email")
    raw_id_fields = ("contact",)
    list_select_related = ("contact", "owner")
    # Only the owner of the address confirms a public-form case, through the emailed link.
    readonly_fields = ("first_response_due", "resolution_due", "first_response_at", "solved_at",
                       "verified", "confirmation_sent_at", "verified_at")
