"""Thin survey tasks: one call to feedback.services, safe to run twice."""
from celery import shared_task

from .services import surveys_queue


# acks_late: surveys_queue skips everyone already asked, so a redelivered task repeats nothing.
@shared_task(name="feedback.queue_surveys", ignore_result=True, acks_late=True)
def queue_surveys_task() -> int:
    """Daily: one survey email to each contact whose purchase was CRM_SURVEY_DELAY_DAYS ago."""
    return surveys_queue()
