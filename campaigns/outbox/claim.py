"""Claiming a batch of due rows, and the batch's lease (see the guarantee in
campaigns/outbox/__init__.py)."""
import datetime as dt
import logging

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from ..models import CampaignRun, Message

logger = logging.getLogger(__name__)
Status = Message.Status

def _due(run_id: int | None, now: dt.datetime):
    # Only runs that are SENDING: a run still being built, or stopped, sends nothing.
    due = Message.objects.filter(status=Status.QUEUED, not_before__lte=now,
                                 run__status=CampaignRun.Status.SENDING)
    if run_id is not None:
        due = due.filter(run_id=run_id)
    return due.order_by("not_before", "id")


def _claim_fields(now: dt.datetime) -> dict:
    return {"status": Status.SENDING, "claimed_at": now, "attempts": F("attempts") + 1,
            "sent_at": None}


def claim_batch(*, run_id: int | None = None, limit: int,
                now: dt.datetime | None = None) -> tuple[list[int], dt.datetime]:
    """Move up to `limit` due rows to SENDING, committed; returns their ids and the claim time.

    The claim time names the batch. On PostgreSQL the claiming session holds the batch's lease
    (see _batch_lease_take) from before the rows become SENDING until send_claimed ends, so a
    batch whose worker died is visible at once to recover_dead_batches. The caller must end
    every claim that returned ids with send_claimed (which releases the lease).

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED lets many workers claim disjoint batches
    without waiting on each other. Elsewhere (SQLite) each row is claimed with a conditional
    UPDATE, which only one writer can win.
    """
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        now = _batch_lease_take(now)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                ids = list(_due(run_id, now).select_for_update(skip_locked=True, of=("self",))
                           .values_list("id", flat=True)[:limit])
                Message.objects.filter(id__in=ids).update(**_claim_fields(now))
            else:
                ids = [pk for pk in _due(run_id, now).values_list("id", flat=True)[:limit]
                       if Message.objects.filter(id=pk, status=Status.QUEUED)
                       .update(**_claim_fields(now))]
    except BaseException:
        batch_lease_release(now)
        raise
    if not ids:
        batch_lease_release(now)
    return ids, now


# --- Batch leases (PostgreSQL) ----------------------------------------------------------------
#
# A batch's rows stay SENDING while its worker sends them. If the worker dies (a killed child,
# a lost machine, a database restart), something else must settle them, and must know that the
# owner is really gone: settling the rows of a batch that is still sending would be harmless
# for exactly-once (claims are checked on every write) but would make its rows UNKNOWN for
# nothing. The owner's database session holds a session-level advisory lock named after the
# batch's claim time; PostgreSQL drops it the moment that session ends, whatever killed it. A
# free lock on a batch with SENDING rows therefore means "owner gone", within seconds, with no
# heartbeat writes. (The one-key form of the lock: the contacts' two-key locks never collide
# with it.) Not through a transaction-pooling PgBouncer, which breaks session locks: see
# docs/deployment.md.

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def batch_key(claimed_at: dt.datetime) -> int:
    """The lease's lock key: the claim time in microseconds, exact as the database stores it."""
    return (claimed_at - _EPOCH) // dt.timedelta(microseconds=1)


def _batch_lease_take(now: dt.datetime) -> dt.datetime:
    """Take the lease of a new batch claimed at `now`, or a microsecond later if another worker
    claims at that very instant; returns the claim time to use."""
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [batch_key(now)])
            if cursor.fetchone()[0]:
                return now
            now += dt.timedelta(microseconds=1)


def batch_lease_release(claimed_at: dt.datetime) -> None:
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [batch_key(claimed_at)])
    except DatabaseError:  # the session is gone, and the lease with it
        logger.warning("Could not release the lease of the batch claimed at %s", claimed_at)
