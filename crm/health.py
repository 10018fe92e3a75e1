"""Is the background machinery alive? Broker reachable, a worker answering, beat ticking."""
import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .celery import app

_LABELS = {
    "broker": gettext_lazy("Message broker"),
    "worker": gettext_lazy("Celery worker"),
    "beat": gettext_lazy("Scheduler (beat)"),
}



@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    @property
    def label(self) -> str:
        return str(_LABELS.get(self.name, self.name))


def broker_check(url: str | None = None, timeout: float = 2.0) -> Check:
    """Can a new connection reach the broker within `timeout` seconds (connect and PING)?

    Always a connection of its own, closed at once, never one of kombu's pool: a pooled one
    may still hold the socket of a Redis that has restarted since, and would report an outage
    that is over. One attempt, no retries: /healthz asks every few seconds and must not hang.
    """
    url = url or app.conf.broker_url
    # The Redis transport reads its socket timeouts here (Celery's connect_timeout is AMQP's).
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    try:
        with app.connection_for_write(url, transport_options=options) as connection:
            connection.ensure_connection(max_retries=0)
    except Exception as error:  # noqa: BLE001 - any failure means "unreachable"
        return Check("broker", False, _without_password(f"{type(error).__name__}: {error}", url))
    return Check("broker", True, url.split("@")[-1])


def _without_password(text: str, url: str) -> str:
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return text.replace(password, "***") if password else text


def database_check() -> Check:
    """Does a query on the default database answer now?

    Through Django's own connection, as every page: CONN_HEALTH_CHECKS has already replaced a
    persistent connection that died, and DATABASES' connect_timeout bounds a new one.
    """
    database = connections[DEFAULT_DB_ALIAS]
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return Check("database", False, f"{type(error).__name__}: {error}")
    return Check("database", True, database.vendor)


def worker_check(timeout: float = 2.0) -> Check:
    try:
        # A fresh connection, as in broker_check: a pooled one fails once after a Redis restart.
        with app.connection_for_write() as connection:
            replies = app.control.ping(timeout=timeout, connection=connection) or []
    except Exception as error:  # noqa: BLE001 - any failure is an unhealthy answer, reported
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


def beats_check() -> Check:
    """Every beat process checks in (crm.beat): one sending is fine, a standby beside it a
    warning, none sending or two at once (the lease bypassed) a failure."""
    from .beat import beats_seen, beats_verdict

    return beats_verdict(beats_seen())


def all_checks() -> list[Check]:
    return [broker_check(), worker_check(), heartbeat_check(), beats_check()]
