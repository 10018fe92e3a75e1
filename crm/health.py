"""Is the background machinery alive? Broker reachable, a worker answering, beat ticking."""
import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_LABELS = {
    "broker": gettext_lazy("Message broker"),
    "worker": gettext_lazy("Celery worker"),
    "beat": gettext_lazy("Scheduler (beat)"),
}

from .celery import app



@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    @property
    def label(self) -> str:
        return str(_LABELS.get(self.name, self.name))


def broker_check() -> Check:
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as error:  # noqa: BLE001 - any failure means "unreachable"
        return Check("broker", False, f"{type(error).__name__}: {error}")
    return Check("broker", True, app.conf.broker_url.split("@")[-1])


def worker_check(timeout: float = 2.0) -> Check:
    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception as error:  # noqa: BLE001
        return Check("worker", False, f"{type(error).__name__}: {error}")
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return Check("worker", False, _("no worker answered"))
    return Check("worker", True, ", ".join(names))


def heartbeat_check(max_age: dt.timedelta = dt.timedelta(minutes=3)) -> Check:
    """Beat schedules crm.heartbeat every minute and a worker runs it: both must be alive."""
    from .models import Heartbeat

    beat = Heartbeat.objects.filter(name="worker").first()
    if beat is None:
        return Check("beat", False, _("no scheduled task has run yet"))
    age = timezone.now() - beat.beaten_at
    detail = _("last scheduled run %(seconds)d s ago") % {"seconds": age.total_seconds()}
    return Check("beat", age <= max_age, detail)


def all_checks() -> list[Check]:
    return [broker_check(), worker_check(), heartbeat_check()]
