"""Reads for the store pages: every store's status in plain words, and a sync job's progress."""
import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Store, SyncJob
from .platforms.base import ConnectorError

# The reconciliation poll runs hourly: a store heard from within this is up to date.
UP_TO_DATE = dt.timedelta(minutes=90)
OPEN_STATUSES = (SyncJob.Status.QUEUED, SyncJob.Status.RUNNING, SyncJob.Status.WAITING)

# A store's last_error_kind in words (ConnectorError's kinds; "credentials": not decryptable).
ERROR_KINDS = {
    ConnectorError.AUTH: gettext_lazy("Credentials refused"),
    ConnectorError.RATE_LIMITED: gettext_lazy("The store asked to slow down"),
    ConnectorError.UNAVAILABLE: gettext_lazy("Store unreachable"),
    ConnectorError.BAD_ANSWER: gettext_lazy("Unexpected answer"),
    ConnectorError.BLOCKED: gettext_lazy("Address refused"),
    "credentials": gettext_lazy("Stored credentials unreadable"),
}


def error_kind_label(kind: str) -> str:
    return str(ERROR_KINDS.get(kind, kind))


@dataclass(frozen=True)
class Lag:
    level: str  # "ok", "behind", "never", "off": the page's badge
    words: str


def store_lag(store: Store, now: dt.datetime | None = None) -> Lag:
    """How far behind the store the CRM may be, in plain words: the time since the store was
    last heard from (its last webhook or poll)."""
    now = now or timezone.now()
    if not store.active:
        return Lag("off", _("Its webhooks are refused and it is not polled."))
    heard = max((moment for moment in (store.last_webhook_at, store.last_poll_at) if moment),
                default=None)
    if heard is None:
        return Lag("never", _("Nothing has come in yet: start a back-fill of the order history."))
    ago = timesince(heard, now, depth=1)
    if now - heard <= UP_TO_DATE:
        return Lag("ok", _("Last heard from %(ago)s ago.") % {"ago": ago})
    return Lag("behind", _("Nothing heard from the store for %(ago)s.") % {"ago": ago})


@dataclass(frozen=True)
class StoreRow:
    store: Store
    lag: Lag
    job: SyncJob | None  # the open job (a back-fill before a poll), else None

    @property
    def error_label(self) -> str:
        return error_kind_label(self.store.last_error_kind)

    @property
    def job_progress(self) -> dict | None:
        return job_progress(self.job) if self.job else None


def stores_with_status() -> list[StoreRow]:
    """Every store with its lag and open job, in two queries."""
    open_jobs = SyncJob.objects.filter(status__in=OPEN_STATUSES).order_by("kind", "-created_at")
    stores = Store.objects.prefetch_related(Prefetch("jobs", open_jobs, to_attr="open_jobs"))
    now = timezone.now()
    return [StoreRow(store, store_lag(store, now), next(iter(store.open_jobs), None))
            for store in stores]


def store_jobs(store: Store, limit: int = 10) -> list[SyncJob]:
    """The store's latest jobs, newest first."""
    return list(store.jobs.select_related("started_by")[:limit])


def job_progress(job: SyncJob) -> dict:
    """A job's progress as the page's script reads it (JSON)."""
    return {
        "status": job.status, "status_label": str(job.get_status_display()),
        "finished": job.status not in OPEN_STATUSES,
        "orders_seen": job.orders_seen, "purchases_created": job.purchases_created,
        "total": job.total, "percent": job.percent, "error": job.error,
    }
