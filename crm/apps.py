from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class CRMConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from . import client_ip  # noqa: F401 - registers the trusted-proxy deploy check
        from . import public_url  # noqa: F401 - registers the CRM_PUBLIC_URL port check


class CRMAdminConfig(AdminConfig):
    default_site = "crm.admin_site.CRMAdminSite"
