"""Thin sending tasks: ids in, one call to campaigns.sending, safe to run twice.

acks_late is on for all three: each only acts on rows it claims with a conditional UPDATE, so a
task redelivered after a worker died (or delivered twice by the broker) repeats nothing.
"""
import logging
import time

from celery import shared_task
from django.conf import settings

from .sending import recover_stuck_messages, run_finish_if_drained, send_due_messages
# The trigger tasks (schedules, purchases, at-risk) live beside the services they call;
# importing them here registers them with Celery's autodiscovery.
from .triggers import detect_at_risk_task, purchase_recorded_task, run_campaign_task  # noqa: F401

logger = logging.getLogger(__name__)

# The periodic safety net stops taking new batches after this long, well inside its minute.
SEND_DUE_BUDGET_SECONDS = 45


@shared_task(name="campaigns.send_run", ignore_result=True, acks_late=True)
def send_run_task(run_id: int) -> None:
    """Send one batch of a run; a full batch means there may be more: the next batch is its own
    task, so workers interleave runs and a killed worker costs at most one batch's delay."""
    report = send_due_messages(run_id=run_id)
    if report.claimed >= settings.CRM_EMAIL_BATCH_SIZE:
        send_run_task.delay_on_commit(run_id)
    else:
        run_finish_if_drained(run_id)


@shared_task(name="campaigns.send_due", ignore_result=True, acks_late=True)
def send_due_task() -> None:
    """Every minute: anything due that no send_run task is handling (retries after their
    back-off, delayed event messages, a run whose task was lost with a broker restart)."""
    deadline = time.monotonic() + SEND_DUE_BUDGET_SECONDS
    run_ids: set[int] = set()
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
