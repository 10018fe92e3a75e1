"""Thin, idempotent tasks: the work is in shops.services."""
from celery import shared_task


@shared_task(name="shops.sync_job_run", acks_late=True)
def sync_job_run_task(job_id: int) -> None:
    """Run a backfill or poll job from its stored cursor (a second run of the same job finds it
    running or done and does nothing)."""
    from .services.sync import sync_job_run

    sync_job_run(job_id)
