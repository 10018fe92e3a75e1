"""Runs that are drained, batches whose worker died, rows stuck for too long, and rows staff
send again."""
import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, Min, OuterRef
from django.utils import timezone

from ..models import CampaignRun, Message
from .claim import batch_key, batch_lease_release
from .outcomes import DIED_PREPARING, MAX_ATTEMPTS

logger = logging.getLogger(__name__)
Status = Message.Status

def run_finish_if_drained(run_id: int) -> bool:
    """Mark a SENDING run DONE once no row is QUEUED, SENDING or WAITING (for a test's
    winner); True if this call did it."""
    pending = Message.objects.filter(run=OuterRef("pk"),
                                     status__in=[Status.QUEUED, Status.SENDING, Status.WAITING])
    return bool(CampaignRun.objects.filter(pk=run_id, status=CampaignRun.Status.SENDING)
                .filter(~Exists(pending))
                .update(status=CampaignRun.Status.DONE, finished_at=timezone.now()))


@dataclass
class RecoveryReport:
    requeued: int = 0
    unknown: int = 0
    failed: int = 0
    run_ids: set[int] = field(default_factory=set)

    def add(self, other: "RecoveryReport") -> None:
        self.requeued += other.requeued
        self.unknown += other.unknown
        self.failed += other.failed
        self.run_ids |= other.run_ids


def _settle_dead_rows(rows, reason: str) -> RecoveryReport:
    """Rows of batches whose worker is gone: offered to the server (hand-off mark) → UNKNOWN;
    never offered → QUEUED again, the attempt not counted, except for each batch's first row
    never offered. A batch sends its rows in id order, so that row is the one its worker was
    preparing when it died (or the next in line): its attempt counts, and after MAX_ATTEMPTS it
    is FAILED (DIED_PREPARING). An email whose preparation kills the worker every time (out of
    memory, a crash in a C library) is thus tried a few times and set aside, instead of
    killing a worker on every redelivery of its batch for ever."""
    report = RecoveryReport(run_ids=set(rows.values_list("run_id", flat=True).distinct()))
    with transaction.atomic():
        report.unknown = rows.filter(sent_at__isnull=False).update(status=Status.UNKNOWN,
                                                                    last_error=reason)
        unsent = rows.filter(sent_at__isnull=True)
        preparing = list(unsent.order_by().values("claimed_at").annotate(first=Min("pk"))
                         .values_list("first", flat=True))
        report.failed = unsent.filter(pk__in=preparing, attempts__gte=MAX_ATTEMPTS).update(
            status=Status.FAILED, last_error=DIED_PREPARING, failed_at=timezone.now())
        report.requeued = unsent.filter(pk__in=preparing).update(status=Status.QUEUED,
                                                                 claimed_at=None)
        report.requeued += unsent.update(status=Status.QUEUED, claimed_at=None,
                                         attempts=F("attempts") - 1)
    if report.unknown:
        logger.warning("%d message(s) may or may not have been delivered (UNKNOWN)",
                       report.unknown)
    if report.failed:
        logger.error("%d message(s) set aside as FAILED: the sending worker died while "
                     "preparing each of them %d times", report.failed, MAX_ATTEMPTS)
    return report


_DEAD_WORKER = "worker stopped after handing this email to the SMTP server"


def recover_dead_batches(*, run_id: int | None = None) -> RecoveryReport:
    """Settle, within seconds, the batches whose worker is gone (PostgreSQL: their lease is
    free; see "Batch leases"). Cheap when nothing is SENDING: every sending task calls it."""
    report = RecoveryReport()
    if connection.vendor != "postgresql":
        return report  # SQLite (one machine, development): recover_stuck_messages's age rule
    sending = Message.objects.filter(status=Status.SENDING)
    if run_id is not None:
        sending = sending.filter(run_id=run_id)
    for claimed_at in set(sending.values_list("claimed_at", flat=True)):
        if claimed_at is None:
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [batch_key(claimed_at)])
            if not cursor.fetchone()[0]:
                continue  # its worker is alive and sending
        try:
            report.add(_settle_dead_rows(
                Message.objects.filter(status=Status.SENDING, claimed_at=claimed_at),
                _DEAD_WORKER))
        finally:
            batch_lease_release(claimed_at)
    return report


def recover_stuck_messages(*, now: dt.datetime | None = None) -> RecoveryReport:
    """Settle rows left SENDING longer than CRM_EMAIL_STUCK_AFTER_MINUTES: the rule on SQLite,
    and on PostgreSQL the last resort for a worker that is alive but hung (its lease is held)."""
    now = now or timezone.now()
    stuck = Message.objects.filter(
        status=Status.SENDING,
        claimed_at__lt=now - dt.timedelta(minutes=settings.CRM_EMAIL_STUCK_AFTER_MINUTES))
    return _settle_dead_rows(stuck, _DEAD_WORKER)


def requeue_unknown_messages(message_ids: list[int]) -> int:
    """Staff decided to resend UNKNOWN rows: they go out again with the same Message-ID, so a
    receiver that kept the first copy can drop the second. The rows only: their run is
    usually DONE by then and claims take rows of SENDING runs only, so callers go through
    campaigns.outbox_actions.messages_send_again, which reopens it."""
    return Message.objects.filter(pk__in=message_ids, status=Status.UNKNOWN).update(
        status=Status.QUEUED, claimed_at=None, sent_at=None, not_before=timezone.now())
