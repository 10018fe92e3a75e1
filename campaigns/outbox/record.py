"""Writing each row's result under its claim, the hand-off mark, retries and releases."""
import datetime as dt
import functools

from django.db import connection
from django.db.models import F
from django.utils import timezone

from ..models import Message
from .outcomes import BACKOFF_MINUTES, MAX_ATTEMPTS

Status = Message.Status

def record_result(message: Message, claimed_at: dt.datetime, **fields) -> bool:
    """Write one row's outcome, only if our claim still holds (recovery may have moved a row
    of a very slow batch to UNKNOWN meanwhile; our result is the better knowledge)."""
    return bool(Message.objects.filter(
        pk=message.pk, claimed_at=claimed_at, status__in=[Status.SENDING, Status.UNKNOWN],
    ).update(**fields))


def mark_handoff(message: Message, claimed_at: dt.datetime) -> bool:
    """Stamp the hand-off mark; False when the claim was lost (then the row must not be sent)."""
    return bool(Message.objects.filter(pk=message.pk, claimed_at=claimed_at,
                                       status=Status.SENDING).update(sent_at=timezone.now()))


def record_and_mark(previous: Message, fields: dict, message: Message,
                     claimed_at: dt.datetime) -> tuple[bool, bool]:
    """One UPDATE (one round trip, one commit) that records `previous` and stamps the hand-off
    mark on `message`: the hot path, once per email. Returns (recorded, marked).

    Plain SQL, not the ORM: building this CASE expression through the ORM cost about a third
    of the sender's CPU per email (measured with cProfile). The statement's text depends only
    on which columns the result sets, so it is built once per such set (_record_and_mark_sql).
    Not wrapped in a transaction: one statement commits by itself in autocommit mode, and
    BEGIN and COMMIT around it would be two more round trips per email (inside a caller's
    transaction it joins that transaction).
    """
    now = timezone.now()
    names = tuple(name for name in fields if name != "sent_at")
    params = []
    for name in names:
        params += [previous.pk, _field(name).get_db_prep_value(fields[name], connection)]
    prep = _field("sent_at").get_db_prep_value
    params += [message.pk, prep(now, connection)]
    if "sent_at" in fields:
        params += [previous.pk, prep(fields["sent_at"], connection)]
    params += [previous.pk, message.pk, prep(claimed_at, connection), Status.SENDING,
               Status.UNKNOWN]
    with connection.cursor() as cursor:
        cursor.execute(_record_and_mark_sql(connection.vendor, names, "sent_at" in fields),
                       params)
        updated = cursor.rowcount
    if updated == 2:
        return True, True
    # A claim was lost (recovery ran on a very slow batch): find out which row is still ours.
    marked = Message.objects.filter(pk=message.pk, claimed_at=claimed_at, status=Status.SENDING,
                                    sent_at=now).exists()
    return updated - marked == 1, marked


@functools.lru_cache(maxsize=64)
def _record_and_mark_sql(vendor: str, names: tuple[str, ...], sets_sent_at: bool) -> str:
    """record_and_mark's statement for a result setting `names` (and sent_at or not); its
    parameters, in order: (previous id, value) per name; the marked row's id and its mark;
    (previous id, sent_at) if set; both ids, the claim time and the two statuses."""
    table = connection.ops.quote_name(Message._meta.db_table)
    sets = []
    for name in names:
        column = connection.ops.quote_name(_field(name).column)
        sets.append(f"{column} = CASE WHEN id = %s THEN %s ELSE {column} END")
    sent_at = connection.ops.quote_name(_field("sent_at").column)
    if sets_sent_at:
        sets.append(f"{sent_at} = CASE WHEN id = %s THEN %s WHEN id = %s THEN %s "
                    f"ELSE {sent_at} END")
    else:
        sets.append(f"{sent_at} = CASE WHEN id = %s THEN %s ELSE {sent_at} END")
    claimed = connection.ops.quote_name(_field("claimed_at").column)
    return (f"UPDATE {table} SET {', '.join(sets)} WHERE id IN (%s, %s) "
            f"AND {claimed} = %s AND status IN (%s, %s)")


def _field(name: str):
    return Message._meta.get_field(name)


def retry_fields(message: Message, error: str, now: dt.datetime) -> dict:
    if message.attempts >= MAX_ATTEMPTS:
        return {"status": Status.FAILED, "last_error": error, "sent_at": None, "failed_at": now}
    wait = dt.timedelta(minutes=BACKOFF_MINUTES[max(message.attempts, 1) - 1])
    return {"status": Status.QUEUED, "not_before": now + wait, "last_error": error,
            "sent_at": None}


def release_unsent(messages: list[Message], claimed_at: dt.datetime,
             not_before: dt.datetime | None = None) -> int:
    """Rows claimed but never offered to the server go back to the queue as they were (due
    again at `not_before` if given). Returns how many."""
    if not messages:
        return 0
    back = {"status": Status.QUEUED, "attempts": F("attempts") - 1, "claimed_at": None}
    if not_before is not None:
        back["not_before"] = not_before
    return Message.objects.filter(pk__in=[m.pk for m in messages], claimed_at=claimed_at,
                                  status=Status.SENDING, sent_at__isnull=True).update(**back)
