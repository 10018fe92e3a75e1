from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """Written by a scheduled task: proves that beat schedules and a worker executes."""

    name = models.CharField(_("name"), max_length=32, unique=True)
    beaten_at = models.DateTimeField(_("beaten at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beaten_at:%Y-%m-%d %H:%M:%S}"


class BeatLease(models.Model):
    """The right to send periodic tasks (crm.beat): one row, held by one beat process at a time
    until `expires_at` (database clock); the holder renews it, a standby takes it once it has
    expired, so a killed beat is replaced within the lease time."""

    name = models.CharField(_("name"), max_length=32, unique=True)
    holder = models.CharField(_("holder"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("beat lease")
        verbose_name_plural = _("beat leases")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or '-'}"


class BeatProcess(models.Model):
    """Every running beat, sending or standing by, checks in here; the status page reads it."""

    ident = models.CharField(_("process"), max_length=200, unique=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    last_seen = models.DateTimeField(_("last seen"))
    # The end of the lease this process holds (None: standing by). Equal to the lease row's
    # expiry, so two rows in the future at once mean two processes sending.
    leading_until = models.DateTimeField(_("sending until"), null=True, blank=True)

    class Meta:
        verbose_name = _("beat process")
        verbose_name_plural = _("beat processes")
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.host} (pid {self.pid})"


class DailyRun(models.Model):
    """A daily job's claim on its day (unique): a second copy of the job (a retry, another
    beat) finds the day taken and does nothing. `period_start`/`period_end`: what this run
    covered, so the next one starts where it ended."""

    job = models.CharField(_("job"), max_length=100)
    day = models.DateField(_("day"))
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("daily run")
        verbose_name_plural = _("daily runs")
        constraints = [models.UniqueConstraint(fields=["job", "day"], name="daily_run_once")]

    def __str__(self) -> str:
        return f"{self.job} {self.day}"


class ShopSettings(models.Model):
    """The shop's own settings, one row (id 1), saved by a manager on the shop settings page.
    Read through crm.shop.shop(), never directly: a value set in the environment wins."""

    name = models.CharField(_("shop name"), max_length=200)
    base_currency = models.CharField(_("base currency"), max_length=3)
    time_zone = models.CharField(_("time zone"), max_length=64)
    default_language = models.CharField(_("default language"), max_length=10)
    sender_name = models.CharField(_("sender name"), max_length=200, blank=True)
    sender_email = models.EmailField(_("sender email"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("shop settings")
        verbose_name_plural = _("shop settings")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="shop_settings_one_row")]

    def __str__(self) -> str:
        return self.name
