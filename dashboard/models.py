from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class KpiSnapshot(models.Model):
    """Dashboard figures computed by a background job, so no page scans all purchases."""

    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    seconds = models.FloatField(_("seconds to compute"), default=0)
    data = models.JSONField(_("figures"), default=dict)

    class Meta:
        verbose_name = _("KPI snapshot")
        verbose_name_plural = _("KPI snapshots")
        ordering = ["-computed_at", "-id"]
        get_latest_by = "computed_at"
        db_table = "customers_kpisnapshot"  # created by customers; moved here (migration 0001)

    def __str__(self) -> str:
        return f"{self.computed_at:%Y-%m-%d %H:%M}"


class CustomerBaseSnapshot(models.Model):
    """The customer-base figures for managers (cohort retention, RFM cells, predicted value),
    computed once per scoring run by a background job (dashboard.customer_base), so the page
    reads one row and never scans purchases."""

    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    seconds = models.FloatField(_("seconds to compute"), default=0)
    # The run whose predicted values it shows; None before the first published run.
    scoring_run_id = models.BigIntegerField(_("scoring run"), null=True, blank=True)
    data = models.JSONField(_("figures"), default=dict)

    class Meta:
        verbose_name = _("customer-base snapshot")
        verbose_name_plural = _("customer-base snapshots")
        ordering = ["-computed_at", "-id"]
        get_latest_by = "computed_at"

    def __str__(self) -> str:
        return f"{self.computed_at:%Y-%m-%d %H:%M}"
