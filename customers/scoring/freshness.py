"""Fresh scores after a batch: contacts whose purchases changed are re-scored from the current
run's fitted models (no refit) within minutes, by the worker, not at the next nightly run.

    scores_refresh_after_commit(contact_ids)  # after this transaction commits: one task
                                              # (customers.refresh_scores) per REFRESH_CHUNK
                                              # contacts, however many there are
    with scores_refresh_batch():              # a loop of small writes (each its own
        for purchase in selected:             # transaction, e.g. the admin's refund action):
            purchase_refund(purchase=purchase)  # their contacts are queued once, in chunks

Every task re-scores its contacts in one pass (customers.scoring.runs.contacts_scores_refresh):
one read of their purchases, one scoring of the arrays. Safe to run twice (the contacts' rows of
the current run are replaced). With no published run yet there is nothing to score from: the
task does nothing and the first run scores everyone.
"""
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from crm.tasks import queue_after_commit

from ..models import ScoringRun

logger = logging.getLogger(__name__)

# Contacts per task: big enough that a 1M-row import queues hundreds of tasks, not a million;
# small enough that one task reads its contacts' purchases in well under a second.
REFRESH_CHUNK = 1000

_CONSEQUENCE = "the nightly run re-scores them"
# A run going while the batch lands may have scored these contacts from the purchases before
# it, and once published its scores are current: the task looks again after the run (at
# most RETRIES_WHILE_RUNNING times, RETRY_SECONDS apart; a run takes minutes).
RETRY_SECONDS = 600
RETRIES_WHILE_RUNNING = 6
_batch = threading.local()


def scores_refresh_after_commit(contact_ids: Iterable[int]) -> None:
    """Re-score these contacts from the last fitted models once the transaction commits.
    Inside scores_refresh_batch() they are collected and queued when the batch ends."""
    ids = {int(contact_id) for contact_id in contact_ids}
    if not ids:
        return
    pending: set[int] | None = getattr(_batch, "ids", None)
    if pending is not None:
        pending.update(ids)
        return
    _queue(ids)


@contextmanager
def scores_refresh_batch() -> Iterator[None]:
    """Collect the re-scoring the writes inside ask for; queue it in chunks at the end (also
    when the batch stops with an error: what committed before it is re-scored). Nested
    batches join the outermost one."""
    if getattr(_batch, "ids", None) is not None:
        yield
        return
    _batch.ids = set()
    try:
        yield
    finally:
        ids, _batch.ids = _batch.ids, None
        if ids:
            _queue(ids)


def _queue(ids: set[int]) -> None:
    from ..tasks import refresh_scores_task

    ordered = sorted(ids)
    for start in range(0, len(ordered), REFRESH_CHUNK):
        queue_after_commit(refresh_scores_task, ordered[start:start + REFRESH_CHUNK],
                           consequence=_CONSEQUENCE)


def scores_refresh_now(contact_ids: list[int], *, attempt: int = 0) -> int:
    """The task's work: re-score these contacts in the current run; while a run that will be
    published is going, once more after it. Returns how many were scored."""
    from .runs import contacts_scores_refresh  # numpy and scipy: only in the worker

    scored = contacts_scores_refresh(contact_ids)
    running = ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING, publish=True)
    if attempt < RETRIES_WHILE_RUNNING and running.exists():
        from ..tasks import refresh_scores_task

        try:
            refresh_scores_task.apply_async((contact_ids, attempt + 1), countdown=RETRY_SECONDS)
        except Exception:
            logger.exception("Could not queue the re-score of %d contacts after the scoring "
                             "run: %s", len(contact_ids), _CONSEQUENCE)
    return scored
