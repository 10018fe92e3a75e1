"""Thin, idempotent tasks: the work is in shops.services."""
from celery import shared_task

from crm.locks import single_run


@shared_task(name="shops.sync_job_run", acks_late=True)
def sync_job_run_task(job_id: int) -> None:
    """Run a backfill or poll job from its stored cursor (a second run of the same job finds it
    running or done and does nothing)."""
    from .services.sync import sync_job_run

    sync_job_run(job_id)


@shared_task(name="shops.delivery_process", acks_late=True, ignore_result=True)
def delivery_process_task(delivery_id: int) -> None:
    """Process one stored webhook delivery (a second run finds it processed)."""
    from .services.deliveries import delivery_process

    delivery_process(delivery_id)


@shared_task(name="shops.sweep_deliveries", ignore_result=True)
@single_run("shops.sweep_deliveries")
def sweep_deliveries_task() -> None:
    """Every minute: deliveries still waiting a minute after they came (the broker was down, a
    worker died, a refund's order was not seen yet) are queued again; processed bodies older
    than CRM_SHOPS_DELIVERY_RETENTION_DAYS are deleted."""
    from .services.sync import deliveries_sweep

    deliveries_sweep()


@shared_task(name="shops.poll_stores", ignore_result=True)
@single_run("shops.poll_stores")
def poll_stores_task() -> None:
    """Hourly: a reconciliation poll of every active store, and jobs whose worker died picked
    up again."""
    from .services.sync import stores_poll

    stores_poll()
