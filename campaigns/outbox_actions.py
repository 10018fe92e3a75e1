"""What managers do to outbox rows by hand: send `unknown` messages again.

An `unknown` row is one the SMTP server may or may not have accepted (a worker killed, or the
connection lost, after the body went out). The sender never resends it by itself; a manager
may choose to, and the row then goes out with the same Message-ID, so a receiver that kept the
first copy can drop the second. By the time staff look, the run is normally `done` (a run
closes once only final or `unknown` rows remain) and claims only take rows of `sending` runs:
the run is reopened here, in the same transaction as the rows, and closes again by the usual
rule (campaigns.outbox.run_finish_if_drained) once they are final.
"""
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef

from .models import CampaignRun, Message
from .outbox import requeue_unknown_messages
from .services import _enqueue_sending

logger = logging.getLogger(__name__)

# Runs a send-again may reopen. A BUILDING run is not sending yet and becomes SENDING by
# itself when its audience is built; a SENDING run needs nothing.
_CLOSED_RUNS = [CampaignRun.Status.DONE, CampaignRun.Status.FAILED]


@dataclass(frozen=True)
class SendAgainResult:
    requeued: int
    runs_reopened: int


def _runs_reopen(run_ids: set[int]) -> int:
    """Closed runs that have queued rows again go back to SENDING; returns how many."""
    queued = Message.objects.filter(run=OuterRef("pk"), status=Message.Status.QUEUED)
    return CampaignRun.objects.filter(pk__in=run_ids, status__in=_CLOSED_RUNS).filter(
        Exists(queued)).update(status=CampaignRun.Status.SENDING, finished_at=None)


def _after_commit(run_ids: set[int]) -> None:
    # A worker closing one of these runs at the very moment we requeued could not see our
    # rows yet (its snapshot predates our commit) and may have closed it again: reopen such
    # a run now that the rows are committed, then queue the sending.
    _runs_reopen(run_ids)
    for run_id in sorted(run_ids):
        _enqueue_sending(run_id)


def messages_send_again(message_ids: list[int], *, by) -> SendAgainResult:
    """Queue these messages again, only those still `unknown`, keeping their Message-ID; reopen
    their runs if closed; queue the sending after commit. Rows in any other status are left
    alone, so a second click (the rows are `queued`, `sent`... by then) does nothing.

    `failed` rows are not eligible: they were refused by the server (a 5xx other than for the
    recipient, which will be refused again) or kept failing temporarily through every retry
    over about nine hours; sending them again is not a decision about an ambiguity but about a
    fixed cause, and is not offered (docs/email-delivery.md).
    """
    with transaction.atomic():
        rows = list(Message.objects.select_for_update()
                    .filter(pk__in=message_ids, status=Message.Status.UNKNOWN)
                    .values_list("pk", "run_id"))
        ids = [pk for pk, _run_id in rows]
        run_ids = {run_id for _pk, run_id in rows}
        requeued = requeue_unknown_messages(ids)
        reopened = _runs_reopen(run_ids)
        if requeued:
            transaction.on_commit(lambda: _after_commit(run_ids))
    if requeued:
        logger.info("%s sent %d unknown message(s) again; %d run(s) reopened",
                    getattr(by, "pk", by), requeued, reopened)
    return SendAgainResult(requeued=requeued, runs_reopened=reopened)
