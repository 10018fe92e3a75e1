from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The sales staff's pages (today's call list, contacts, the contact page, KPIs): on top of
    every app, reading their selectors; nothing imports it."""

    name = "dashboard"
    verbose_name = _("Dashboard")
