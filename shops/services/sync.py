"""Backfill and poll jobs: started here (one open job of a kind per store), run page by page
by shops.tasks, the cursor stored after every page."""
from django.db import IntegrityError, transaction

from accounts.models import User
from crm.tasks import queue_after_commit

from ..models import Store, SyncJob


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
        return _open_job(store, kind) or SyncJob.objects.filter(store=store, kind=kind).first()
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


def sync_job_run(job_id: int) -> None:
    """Run the job's pages from its cursor (shops.tasks calls this). Written by the ingest
    part of #20."""
    raise NotImplementedError
