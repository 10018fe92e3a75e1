"""Thin Celery tasks: ids in, one service call, retries scheduled from the row's own state."""
import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from crm.locks import single_run

from .selectors import deliveries_due_ids
from .services import delivery_attempt

logger = logging.getLogger(__name__)

# The sweep leaves rows alone this long after they fell due: their own queued task (sent on
# commit or with a countdown) normally takes them first, so the sweep only finds lost ones.
SWEEP_GRACE = dt.timedelta(seconds=60)
SWEEP_BATCH = 1000


@shared_task(name="webhooks.deliver", ignore_result=True, acks_late=True)
def deliver_task(delivery_id: int) -> None:
    """One attempt at a delivery; a delivered, failed, not-yet-due or in-flight row is left be."""
    retry_in = delivery_attempt(delivery_id=delivery_id)
    if retry_in is None:
        return
    try:
        deliver_task.apply_async((delivery_id,), countdown=retry_in)
    except Exception:  # the broker is down: the row is pending and due later; the sweep sends it
        logger.exception("Could not schedule the retry of webhook delivery %s", delivery_id)


# Locked: two sweeps at once would queue every due delivery twice (the claim then drops one).
@shared_task(name="webhooks.send_due", ignore_result=True)
@single_run("webhooks.send_due")
def send_due_task() -> None:
    """Re-queue pending deliveries whose time has passed (a lost message, an import's rest)."""
    for delivery_id in deliveries_due_ids(before=timezone.now() - SWEEP_GRACE, limit=SWEEP_BATCH):
        deliver_task.delay(delivery_id)
