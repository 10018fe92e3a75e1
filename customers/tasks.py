import logging

from celery import shared_task

from .services import contacts_rederive_stats

logger = logging.getLogger(__name__)


@shared_task(name="customers.rederive_stats", ignore_result=True)
def rederive_stats_task() -> None:
    report = contacts_rederive_stats()
    if report.drifted:
        logger.warning("Fixed drifted purchase figures on %d contacts", report.drifted)
