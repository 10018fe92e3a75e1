from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    """Support cases: what customers need solved, owned by staff, measured against targets."""

    name = "support"
    verbose_name = _("Support")
