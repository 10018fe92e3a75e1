"""Backfill and poll jobs: started here (one open job of a kind per store), run page by page
by shops.tasks, the cursor stored after every page.

A run pages through the platform's orders from the job's cursor (a backfill: the whole
history, recorded as the past, nothing announced; a poll: what changed since the store's
watermark, as live orders) and stores cursor, counts and heartbeat after each page, so a
crash or redeploy carries on where it stopped: the hourly `stores_poll` picks up a job whose
heartbeat went stale. One run of a job at a time (crm.locks). The store's API failing:
- RATE_LIMITED: the job WAITS and is queued again after the Retry-After asked for;
- UNAVAILABLE: waits and tries again MAX_RETRIES times (1, 2, 4... minutes), then FAILED;
- AUTH, BAD_ANSWER, BLOCKED: FAILED at once (a manager must act).
Every error is also the store's last error (its status page); a job that succeeds clears it.
"""
import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from crm.locks import named_lock
from crm.tasks import queue_after_commit

from ..crypto import CredentialsUnreadable
from ..http import ShopHTTP
from ..models import Store, SyncJob, WebhookDelivery
from ..platforms.base import ConnectorError, OrderData, Platform, StoreAccess
from .orders import order_ingest, orders_ingest

logger = logging.getLogger(__name__)

MAX_RETRIES = 3  # the store's API unavailable this many times in a row: the job fails
POLL_MARGIN = dt.timedelta(minutes=10)  # the next poll re-reads this much before the last
FIRST_POLL_WINDOW = dt.timedelta(days=1)  # a store never polled: changes of the last day
STALE_AFTER = dt.timedelta(minutes=15)  # no progress for this long: the worker died
SWEEP_AFTER = dt.timedelta(minutes=1)  # a delivery waiting this long is queued again
SWEEP_BATCH = 1000


def sync_start(*, store: Store, kind: str, started_by: User | None = None) -> SyncJob:
    """Start a backfill or poll of `store`; a job of that kind still open is returned instead
    of starting a second one (a double click, the hourly poll meeting a manual one)."""
    open_job = _open_job(store, kind)
    if open_job is not None:
        return open_job
    try:
        with transaction.atomic():
            job = SyncJob.objects.create(
                store=store, kind=kind, started_by=started_by,
                updated_since=store.poll_watermark if kind == SyncJob.Kind.POLL else None)
    except IntegrityError:  # another request started one in between
        return _open_job(store, kind) or SyncJob.objects.filter(store=store, kind=kind).latest(
            "created_at")
    _queue(job)
    return job


def _open_job(store: Store, kind: str) -> SyncJob | None:
    return SyncJob.objects.filter(
        store=store, kind=kind,
        status__in=[SyncJob.Status.QUEUED, SyncJob.Status.RUNNING, SyncJob.Status.WAITING],
    ).first()


def _queue(job: SyncJob) -> None:
    from ..tasks import sync_job_run_task

    queue_after_commit(sync_job_run_task, job.pk,
                       consequence="the job stays queued until the next hourly poll")


def _queue_later(job: SyncJob, seconds: float) -> None:
    from ..tasks import sync_job_run_task

    try:
        sync_job_run_task.apply_async((job.pk,), countdown=max(int(seconds), 1))
    except Exception:
        logger.exception("Could not queue job %s again: the hourly poll resumes it", job.pk)


_OPEN = [SyncJob.Status.QUEUED, SyncJob.Status.RUNNING, SyncJob.Status.WAITING]


def sync_job_run(job_id: int) -> None:
    """Run the job's pages from its cursor (shops.tasks calls this); a second run of a job
    that is running returns at once."""
    with named_lock(f"shops.sync_job:{job_id}") as acquired:
        if not acquired:
            logger.info("Shop sync job %s is running elsewhere; this copy skips", job_id)
            return
        _run(job_id)


def _run(job_id: int) -> None:
    job = SyncJob.objects.select_related("store").filter(pk=job_id, status__in=_OPEN).first()
    if job is None:  # done, failed, or gone
        return
    store = job.store
    now = timezone.now()
    if not store.active:
        _finish(job, SyncJob.Status.FAILED, error="The store is not active.")
        return
    job.status = SyncJob.Status.RUNNING
    job.started_at = job.started_at or now
    job.heartbeat_at = now
    job.save(update_fields=["status", "started_at", "heartbeat_at"])
    backfill = job.kind == SyncJob.Kind.BACKFILL
    since = None
    if not backfill:
        since = (job.updated_since or store.poll_watermark
                 or max(store.created_at, now - FIRST_POLL_WINDOW))
    platform = store.platform_impl
    try:
        access = store.access()
        with _http() as http:
            while not job.cursor.startswith(REFUNDS_PHASE):
                page = platform.orders_page(access, http, cursor=job.cursor or None,
                                            updated_since=since)
                orders = _refunds_in_full(platform, access, http, page.orders)
                outcome = orders_ingest(store, orders, historical=backfill)
                job.cursor = page.next_cursor or (
                    REFUNDS_PHASE if backfill and platform.refunds_apart else "")
                job.pages += 1
                job.orders_seen += outcome.orders_seen
                job.purchases_created += outcome.purchases_created
                if page.total is not None:
                    job.total = page.total
                job.heartbeat_at = timezone.now()
                job.retries = 0
                job.save(update_fields=["cursor", "pages", "orders_seen", "purchases_created",
                                        "total", "heartbeat_at", "retries"])
                if not page.next_cursor:
                    break
            if job.cursor.startswith(REFUNDS_PHASE):
                _refunded_orders(store, job, platform, access, http)
    except CredentialsUnreadable as error:
        _failed(job, ConnectorError(ConnectorError.AUTH, str(error)))
        return
    except ConnectorError as error:
        _failed(job, error)
        return
    except Exception as error:
        # A crash: the job stays running from its cursor; the hourly poll resumes it.
        _store_error(store, "error", f"{type(error).__name__}: {error}")
        SyncJob.objects.filter(pk=job.pk).update(error=f"{type(error).__name__}: {error}"[:2000])
        raise
    _finish(job, SyncJob.Status.DONE)
    values: dict[str, object] = {"last_error": "", "last_error_kind": "",
                                 "last_error_at": None}
    if not backfill:
        values.update(poll_watermark=job.started_at - POLL_MARGIN, last_poll_at=timezone.now())
    Store.objects.filter(pk=store.pk).update(**values)


# A backfill's cursor once its orders are read, for platforms that keep refunds apart: what
# follows is the refunds' own cursor, so a job resumed after a crash carries on there.
REFUNDS_PHASE = "refunds:"


def _refunded_orders(store: Store, job: SyncJob, platform: Platform, access: StoreAccess,
                     http: ShopHTTP) -> None:
    """The backfill's second part where refunds are objects of their own (IdeaSoft): each
    order with refunds fetched with them and ingested (its refunds applied once each)."""
    cursor = job.cursor[len(REFUNDS_PHASE):] if job.cursor.startswith(REFUNDS_PHASE) else ""
    while True:
        page = platform.refunded_orders_page(access, http, cursor=cursor or None)
        for order_id in page.order_ids:
            order = platform.order(access, http, order_id)
            if order is not None:
                order_ingest(store, order, historical=True)
        cursor = page.next_cursor or ""
        job.cursor = REFUNDS_PHASE + cursor
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["cursor", "heartbeat_at"])
        if not cursor:
            return


def _refunds_in_full(platform: Platform, access: StoreAccess, http: ShopHTTP,
                     orders: Sequence[OrderData]) -> list[OrderData]:
    """The page's orders, those whose refunds are only a summary (amounts that may include
    refunded shipping, no lines) fetched with their refunds in full: one request each, for
    the few refunded orders."""
    return [(platform.order(access, http, order.order_id) or order)
            if order.refunds_summarised else order for order in orders]


def _http() -> ShopHTTP:
    return ShopHTTP()


def _finish(job: SyncJob, status: str, *, error: str = "") -> None:
    job.status, job.error, job.finished_at = status, error[:2000], timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])


def _failed(job: SyncJob, error: ConnectorError) -> None:
    """The store's API failed: wait and try again (rate limit, unavailable) or fail."""
    _store_error(job.store, error.kind, error.message)
    if error.kind == ConnectorError.RATE_LIMITED:
        job.status, job.error = SyncJob.Status.WAITING, error.message[:2000]
        job.save(update_fields=["status", "error"])
        _queue_later(job, error.retry_after if error.retry_after is not None else 60)
        return
    if error.kind == ConnectorError.UNAVAILABLE and job.retries < MAX_RETRIES:
        job.retries += 1
        job.status, job.error = SyncJob.Status.WAITING, error.message[:2000]
        job.save(update_fields=["status", "error", "retries"])
        _queue_later(job, 60 * 2 ** (job.retries - 1))
        return
    _finish(job, SyncJob.Status.FAILED, error=error.message)


def _store_error(store: Store, kind: str, message: str) -> None:
    now = timezone.now()
    Store.objects.filter(pk=store.pk).update(last_error=message[:2000],
                                             last_error_kind=kind[:16], last_error_at=now)
    store.last_error, store.last_error_kind, store.last_error_at = message, kind, now


# --- The periodic tasks' work -------------------------------------------------------------------

def stores_poll() -> tuple[int, int]:
    """Start a poll of every active store (a poll still open is left to finish) and queue
    again the jobs whose worker died. Returns (polls started or open, jobs resumed)."""
    polls = 0
    for store in Store.objects.filter(active=True).order_by("pk"):
        sync_start(store=store, kind=SyncJob.Kind.POLL)
        polls += 1
    return polls, jobs_resume_stale()


def jobs_resume_stale(now: dt.datetime | None = None) -> int:
    """Queue again the open jobs with no progress for STALE_AFTER (a worker died, a message
    was lost); the job's lock keeps one that is in fact running from running twice."""
    from ..tasks import sync_job_run_task

    limit = (now or timezone.now()) - STALE_AFTER
    stale = list(SyncJob.objects.filter(status__in=_OPEN).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, created_at__lt=limit))
        .values_list("pk", flat=True))
    for job_id in stale:
        try:
            sync_job_run_task.delay(job_id)
        except Exception:
            logger.exception("Could not queue stale shop sync job %s", job_id)
            break
    return len(stale)


def deliveries_sweep(now: dt.datetime | None = None) -> tuple[int, int]:
    """Queue again deliveries still waiting SWEEP_AFTER after they came; delete processed
    ones older than CRM_SHOPS_DELIVERY_RETENTION_DAYS. Returns (queued, deleted)."""
    from ..tasks import delivery_process_task

    now = now or timezone.now()
    waiting = list(WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.RECEIVED, received_at__lt=now - SWEEP_AFTER)
        .order_by("received_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    queued = 0
    for delivery_id in waiting:
        try:
            delivery_process_task.delay(delivery_id)
        except Exception:
            logger.exception("Could not queue shop delivery %s: the next sweep tries again",
                             delivery_id)
            break
        queued += 1
    days = int(getattr(settings, "CRM_SHOPS_DELIVERY_RETENTION_DAYS", 30))
    deleted, _by_model = WebhookDelivery.objects.exclude(
        status=WebhookDelivery.Status.RECEIVED).filter(
        received_at__lt=now - dt.timedelta(days=days)).delete()
    return queued, deleted
