import logging

from celery import shared_task

from crm.locks import single_run

from . import hooks
from .models import ScoringRun
from .scoring.runs import (
    contact_scores_refresh,
    scoring_chunk_score,
    scoring_run_execute,
    scoring_run_fail,
    scoring_run_start,
)
from .bought.pairs import product_figures_refresh
from .services.consistency import contacts_rederive_stats
from .services.follow_up_reminders import follow_up_reminders_send

logger = logging.getLogger(__name__)


# Locked: two copies at once would both scan every contact (single_run: the second skips).
@shared_task(name="customers.rederive_stats", ignore_result=True)
@single_run("customers.rederive_stats")
def rederive_stats_task() -> None:
    report = contacts_rederive_stats()
    if report.days_corrected:
        logger.warning("Moved %d purchases to their day in the shop's time zone",
                       report.days_corrected)
    if report.drifted:
        logger.warning("Fixed drifted purchase figures on %d contacts", report.drifted)


# Locked: the second copy would only redo the same figures.
@shared_task(name="customers.product_figures", ignore_result=True)
@single_run("customers.product_figures")
def product_figures_task() -> None:
    """Nightly: "also bought" pairs and products' reorder intervals (customers.bought)."""
    pairs, intervals = product_figures_refresh()
    logger.info("Product figures: %d pairs, %d reorder intervals", pairs, intervals)


@shared_task(name="customers.score_contacts", ignore_result=True)
def score_contacts_task(trigger: str = ScoringRun.Trigger.SCHEDULE,
                        started_by_id: int | None = None) -> None:
    """Nightly (and when a manager asks, with their id): fit, backtest and score every contact;
    a second trigger while one runs is a no-op."""
    run = scoring_run_start(trigger=trigger, started_by_id=started_by_id)
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


@shared_task(name="customers.refresh_scores", ignore_result=True)
def refresh_scores_task(contact_ids: list[int], attempt: int = 0) -> None:
    """A chunk of contacts a batch changed (customers.scoring.freshness): re-score them in one
    pass from the last fitted models (again after a scoring run going meanwhile). Safe to run
    twice."""
    from .scoring.freshness import scores_refresh_now

    scores_refresh_now([int(contact_id) for contact_id in contact_ids], attempt=attempt)


@shared_task(name="customers.purchase_recorded", ignore_result=True)
def purchase_recorded_task(contact_id: int) -> None:
    """After a purchase commits: re-score the contact, then let event campaigns react (their
    audiences see the fresh score). One message, not two, on the API's busiest path."""
    try:
        contact_scores_refresh(contact_id)
    except Exception:  # the nightly run re-scores everyone: campaigns must not wait for it
        logger.exception("Could not re-score contact %s after a purchase", contact_id)
    hooks.purchase_committed.call(contact_id)  # campaigns: first/repeat/Nth purchase events


@shared_task(name="customers.purchases_imported", ignore_result=True)
def purchases_imported_task(counts_before: list[list[int]], historical: bool) -> None:
    """After an import commits, for a chunk of the contacts it gave purchases
    ([contact_id, purchase count before the import] pairs): re-score them from the last fitted
    models, then (unless the import was historical) let event campaigns react. Safe to run
    twice: a re-score replaces the scores, a campaign emails a contact once."""
    from .scoring.freshness import scores_refresh_now

    before = {int(contact_id): int(count) for contact_id, count in counts_before}
    try:
        scores_refresh_now(list(before))  # again after a scoring run going meanwhile
    except Exception:  # the nightly run re-scores everyone: campaigns must not wait for it
        logger.exception("Could not re-score %d contacts after an import", len(before))
    if not historical:
        hooks.purchases_committed.call(before)  # campaigns: first/repeat/Nth purchase events


@shared_task(name="customers.import_preview", ignore_result=True)
def import_preview_task(job_id: int) -> None:
    """Dry run of an uploaded CSV; a job past this step is left alone."""
    from .imports.jobs import import_job_preview

    import_job_preview(job_id)


@shared_task(name="customers.import_run", ignore_result=True)
def import_run_task(job_id: int) -> None:
    """The import itself; the job is claimed first, so it never runs twice."""
    from .imports.jobs import import_job_run

    import_job_run(job_id)


@shared_task(name="customers.import_purge", ignore_result=True)
@single_run("customers.import_purge")  # two copies would delete the same files side by side
def import_purge_task() -> None:
    """Daily: delete old import jobs' files (reports, uploads never started)."""
    from .imports.retention import import_jobs_purge

    import_jobs_purge()


@shared_task(name="customers.fetch_rates", ignore_result=True)
@single_run("customers.fetch_rates")
def fetch_rates_task() -> None:
    """Daily: the central bank's exchange rates for the base currency (customers.rates_feed);
    converts the purchases that waited for them."""
    from .rates_feed import fetch_and_save_rates

    fetch_and_save_rates()


# Every minute; safe twice at once: each reminder is claimed before it is sent.
@shared_task(name="customers.follow_up_reminders", ignore_result=True)
def follow_up_reminders_task() -> None:
    sent = follow_up_reminders_send()
    if sent:
        logger.info("Sent %d follow-up reminders", sent)
