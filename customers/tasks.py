import logging

from celery import shared_task

from .kpis import kpis_refresh
from .models import ScoringRun
from .scoring_runs import (
    contact_scores_refresh,
    scoring_chunk_score,
    scoring_run_execute,
    scoring_run_fail,
    scoring_run_start,
)
from .services import contacts_rederive_stats

logger = logging.getLogger(__name__)


@shared_task(name="customers.rederive_stats", ignore_result=True)
def rederive_stats_task() -> None:
    report = contacts_rederive_stats()
    if report.drifted:
        logger.warning("Fixed drifted purchase figures on %d contacts", report.drifted)


@shared_task(name="customers.score_contacts", ignore_result=True)
def score_contacts_task() -> None:
    """Nightly: fit, backtest and score every contact; a second trigger while one runs is a no-op."""
    run = scoring_run_start(trigger=ScoringRun.Trigger.SCHEDULE)
    if run is None:
        logger.info("A scoring run is already going; not starting another")
        return
    scoring_run_execute(run.pk, parallel=True)


@shared_task(name="customers.score_chunk", ignore_result=True, acks_late=True)
def score_chunk_task(run_id: int, number: int) -> None:
    try:
        scoring_chunk_score(run_id, number)
    except Exception as error:
        scoring_run_fail(run_id, error)
        raise


@shared_task(name="customers.refresh_contact_score", ignore_result=True)
def refresh_contact_score_task(contact_id: int) -> None:
    contact_scores_refresh(contact_id)


@shared_task(name="customers.refresh_kpis", ignore_result=True)
def refresh_kpis_task() -> None:
    kpis_refresh()
