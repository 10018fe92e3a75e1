from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.roles import is_manager


class CRMAdminSite(admin.AdminSite):
    """The admin is for managers only: staff status alone is not enough."""

    site_header = _("CRM administration")
    site_title = _("CRM admin")
    index_title = _("Manage the CRM")

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and is_manager(request.user)
