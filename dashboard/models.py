from django.conf import settings
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


class BulkAssignJob(models.Model):
    """A background owner change of a whole filtered contact list (dashboard.bulk): the
    list's filters as their query string (re-evaluated by the worker, never a list of ids),
    the new owner, and progress for the bar."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"),
                                   null=True, on_delete=models.SET_NULL, related_name="+")
    query = models.TextField(_("filters"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("new owner"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.QUEUED)
    total = models.PositiveIntegerField(_("contacts"), default=0)
    done = models.PositiveIntegerField(_("contacts done"), default=0)
    changed = models.PositiveIntegerField(_("owners changed"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk owner change")
        verbose_name_plural = _("bulk owner changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.done}/{self.total}"
