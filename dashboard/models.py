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
