"""The import jobs in the admin: a read-only record."""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.admin_tools import ReadOnlyAdminMixin

from ..models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who imported what, and how it went: a record, read-only (imports start in the dashboard,
    where the preview and the progress are)."""

    list_display = ("created_at", "kind", "original_name", "uploaded_by", "status",
                    "count_created", "count_updated", "count_rejected", "dashboard_link")
    list_filter = ("kind", "status")
    list_select_related = ("uploaded_by",)
    date_hierarchy = "created_at"
    exclude = ("upload_path", "report_path", "preview")

    @admin.display(description=gettext_lazy("details"))
    def dashboard_link(self, job: ImportJob) -> str:
        return format_html('<a href="{}">{}</a>',
                           reverse("customers:import_progress", args=[job.pk]), _("Open"))
