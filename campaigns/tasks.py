"""Thin sending tasks: ids in, calls into campaigns.outbox, safe to run twice.

acks_late is on for all three: each only acts on rows it claims with a conditional UPDATE, so a
task redelivered after a worker died (or delivered twice by the broker) repeats nothing.
"""
import logging
import time

from celery import shared_task
from django.conf import settings

from crm.errors import DATABASE_OUTAGE_ERRORS

from .outbox import (
    claim_batch,
    recover_dead_batches,
    recover_stuck_messages,
    run_finish_if_drained,
    send_claimed,
    send_due_messages,
)
# The trigger tasks (schedules, purchases, at-risk) live beside the services they call;
# importing them here registers them with Celery's autodiscovery.
from .triggers import (  # noqa: F401 - Celery finds tasks in tasks.py
    detect_at_risk_task,
    purchase_recorded_task,
    reorder_check_task,
    run_campaign_task,
)
from .variant_decision import variant_tests_decide_due

logger = logging.getLogger(__name__)

# The periodic safety net stops taking new batches after this long, well inside its minute.
SEND_DUE_BUDGET_SECONDS = 45


@shared_task(name="campaigns.send_run", bind=True, ignore_result=True, acks_late=True,
             reject_on_worker_lost=True, autoretry_for=DATABASE_OUTAGE_ERRORS, retry_backoff=2,
             retry_backoff_max=30, retry_jitter=False, max_retries=40)
def send_run_task(self, run_id: int) -> None:
    """Send one batch of a run. A full batch means there may be more: the next batch is queued
    as soon as this one is claimed, before it is sent, so every free worker process joins in
    (each start queues one successor) and a worker killed mid-batch does not stop the run: its
    successor is already queued, and the killed task itself goes back to the queue
    (reject_on_worker_lost); whichever runs first settles the dead batch. A database outage retries
    the task with a growing pause (2 s doubling to 30 s, about 20 minutes in all; after that
    the once-a-minute campaigns.send_due carries on)."""
    recover_dead_batches(run_id=run_id)
    ids, claimed_at = claim_batch(run_id=run_id, limit=settings.CRM_EMAIL_BATCH_SIZE)
    more = len(ids) >= settings.CRM_EMAIL_BATCH_SIZE
    eager = bool(self.request.is_eager)  # tests without a worker: one batch after the other
    if more and not eager:
        self.delay(run_id)
    send_claimed(ids, claimed_at)
    if more and eager:
        self.delay(run_id)
    # Every batch checks, not only the last one claimed: batches run side by side and the one
    # that finishes last is the one that sees the run drained.
    run_finish_if_drained(run_id)


def run_sending_enqueue(run_id: int) -> None:
    """Start sending a run's queued rows (after its transaction commits, callers' business).
    A broker that is down only delays it: the periodic campaigns.send_due picks the rows up."""
    try:
        send_run_task.delay(run_id)
    except Exception:  # any broker failure; the safety net covers it
        logger.exception("Could not queue sending for campaign run %s; campaigns.send_due "
                         "will send it within a minute", run_id)


@shared_task(name="campaigns.send_due", ignore_result=True, acks_late=True)
def send_due_task() -> None:
    """Every minute: batches whose worker died, and anything due that no send_run task is
    handling (retries after their back-off, delayed event messages, a run whose task was lost
    with a broker restart)."""
    deadline = time.monotonic() + SEND_DUE_BUDGET_SECONDS
    run_ids = recover_dead_batches().run_ids
    while time.monotonic() < deadline:
        report = send_due_messages()
        run_ids |= report.run_ids
        if report.claimed < settings.CRM_EMAIL_BATCH_SIZE:
            break
    for run_id in sorted(run_ids):
        run_finish_if_drained(run_id)


@shared_task(name="campaigns.recover_stuck", ignore_result=True, acks_late=True)
def recover_stuck_task() -> None:
    report = recover_stuck_messages()
    for run_id in sorted(report.run_ids):
        run_finish_if_drained(run_id)


@shared_task(name="campaigns.decide_variant_tests", ignore_result=True, acks_late=True)
def decide_variant_tests_task() -> None:
    """Every 10 minutes: subject and content tests whose period has passed are decided and
    their waiting emails released (campaigns.variant_decision; once, under a row lock)."""
    variant_tests_decide_due()


@shared_task(name="campaigns.journeys_advance", ignore_result=True, acks_late=True)
def journeys_advance_task() -> None:
    """Every minute: contacts whose next journey step is due take it (campaigns.
    journey_advance: each enrollment under its row lock, its position stored with what the
    step wrote, so a second copy, or a redelivery after a killed worker, repeats nothing)."""
    from .journey_advance import journeys_advance

    journeys_advance()


@shared_task(name="campaigns.journey_anniversaries", ignore_result=True, acks_late=True)
def journey_anniversaries_task() -> None:
    """Daily: first-purchase anniversaries enter their campaigns, once a year each
    (campaigns.journeys.anniversaries_enroll; a second run finds them enrolled)."""
    from .journeys import anniversaries_enroll

    anniversaries_enroll()
