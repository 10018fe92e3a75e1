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
