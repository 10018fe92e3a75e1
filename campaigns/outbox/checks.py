"""Send-time checks, after the claim: one sender per contact at a time (PostgreSQL), then
consent, suppression, the frequency cap, promotion pauses and "bought since queued" (the
product of a reorder reminder bought again, too)."""
import datetime as dt
import logging

from django.conf import settings
from django.db import DatabaseError, connection

from customers.bought.selectors import counted_lines
from customers.models import Purchase

from .. import hooks
from ..dkim import broken_reason
from ..models import Campaign, Message, ReorderReminder, Suppression
from ..sending_pause import active_pause
from .outcomes import (
    BOUGHT_SINCE,
    FREQUENCY_CAP,
    NO_CONSENT,
    NO_EMAIL,
    SUPPRESSED_PREFIX,
)

logger = logging.getLogger(__name__)
Status = Message.Status

# Advisory locks are one namespace per database: this first key says "a contact being sent to".
_SENDING_LOCK_SPACE = 0x43524D  # "CRM"
# A row whose contact another worker is sending to waits this long, then is due again.
CONTACT_BUSY_WAIT = dt.timedelta(minutes=1)


def contacts_lock(contact_ids: set[int]) -> set[int]:
    """Take the sending lock of these contacts (session-level, released by contacts_unlock or
    when the connection ends); returns the ids that another worker holds right now.

    The frequency cap is checked after this: two workers never check, then both send, to one
    contact, whatever campaigns their batches come from."""
    if connection.vendor != "postgresql" or not contact_ids:
        return set()  # SQLite: one writer at a time, and one worker in development
    with connection.cursor() as cursor:
        cursor.execute("SELECT c FROM unnest(%s::bigint[]) AS c "
                       "WHERE NOT pg_try_advisory_lock(%s, mod(c, 2147483647)::int)",
                       [sorted(contact_ids), _SENDING_LOCK_SPACE])
        return {row[0] for row in cursor.fetchall()}


def contacts_unlock(contact_ids: set[int]) -> None:
    if connection.vendor != "postgresql" or not contact_ids:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, mod(c, 2147483647)::int) "
                           "FROM unnest(%s::bigint[]) AS c",
                           [_SENDING_LOCK_SPACE, sorted(contact_ids)])
    except DatabaseError:  # the session is gone, and its locks with it; keep the first error
        logger.warning("Could not release the sending locks of %d contacts", len(contact_ids))


# --- Send-time checks -------------------------------------------------------------------------

# Claimed rows of a paused sender go back to the queue, due again after this long.
PAUSED_WAIT = dt.timedelta(minutes=1)


def sending_pause() -> str:
    """Why nothing may be sent right now ("" when sending may go on): DKIM configured but
    its key unusable (never send unsigned), or a pause for spam complaints not yet resumed
    (campaigns.sending_pause). One query."""
    reason = broken_reason()
    if reason:
        return f"DKIM signing is configured but unusable: {reason}"
    pause = active_pause()
    if pause is not None:
        return (f"sending paused since {pause.started_at:%Y-%m-%d %H:%M} UTC for spam "
                f"complaints ({pause.complaints} for {pause.sent} emails); a manager resumes "
                "it on the Deliverability page")
    return ""


def blocked_messages(messages: list[Message], now: dt.datetime) -> dict[int, tuple[str, str]]:
    """Rows that must not be sent now: {id: (status, reason)}. Three queries for the batch."""
    emails = {m.contact.email.lower() for m in messages if m.contact.email}
    suppressed = dict(Suppression.objects.filter(email__in=emails).values_list("email", "reason"))
    cutoff = now - dt.timedelta(days=settings.CRM_MARKETING_CAP_DAYS)
    # UNKNOWN rows, and rows handed to the server whose result is not written yet, may have
    # reached the contact, so they count towards the cap too.
    recent = set(Message.objects.filter(
        contact_id__in={m.contact_id for m in messages},
        status__in=[Status.SENT, Status.UNKNOWN, Status.SENDING],
        sent_at__gte=cutoff).exclude(pk__in=[m.pk for m in messages])
        .values_list("contact_id", flat=True))
    blocked = {}
    for message in messages:
        email = message.contact.email.lower()
        if not email:
            blocked[message.pk] = (Status.SUPPRESSED, NO_EMAIL)
        elif email in suppressed:
            blocked[message.pk] = (Status.SUPPRESSED, SUPPRESSED_PREFIX + suppressed[email])
        elif not message.contact.marketing_consent:
            blocked[message.pk] = (Status.SUPPRESSED, NO_CONSENT)
        elif message.contact_id in recent:
            blocked[message.pk] = (Status.CAPPED, FREQUENCY_CAP)
    blocked.update(_bought_since_queued(messages, already=blocked))
    blocked.update(_reordered_since_queued(messages, already=blocked))
    # Other apps' checks (campaigns.hooks): promotions pause after an unhappy survey answer.
    for blocks in hooks.send_blocks:
        blocked.update(blocks(messages, now=now, already=blocked))
    return blocked


def _bought_since_queued(messages: list[Message], *, already: dict) -> dict:
    """A delayed "you left something in your cart" reminder is pointless, even annoying, once
    the contact has bought: campaigns whose audience asks for "no purchase since the action"
    check it again at send time. No query for batches without such campaigns."""
    waiting = [m for m in messages if m.pk not in already
               and (m.campaign.audience or {}).get("website_action_no_purchase_since")]
    if not waiting:
        return {}
    purchases = Purchase.objects.counted().filter(
        contact_id__in={m.contact_id for m in waiting},
        purchased_at__gte=min(m.created_at for m in waiting))
    latest: dict[int, dt.datetime] = {}
    for contact_id, purchased_at in purchases.values_list("contact_id", "purchased_at"):
        latest[contact_id] = max(purchased_at, latest.get(contact_id, purchased_at))
    return {m.pk: (Status.SUPPRESSED, BOUGHT_SINCE) for m in waiting
            if m.contact_id in latest and latest[m.contact_id] >= m.created_at}


def _reordered_since_queued(messages: list[Message], *, already: dict) -> dict:
    """A "time to reorder" reminder whose product the contact bought again since it was
    queued (campaigns.reorder) is not sent. No query for batches without reminders."""
    waiting = [m.pk for m in messages if m.pk not in already
               and m.campaign.event == Campaign.Event.REORDER_DUE]
    reminders = list(ReorderReminder.objects.filter(message_id__in=waiting)) if waiting else []
    if not reminders:
        return {}
    bought = (counted_lines()
              .filter(purchase__contact_id__in={r.contact_id for r in reminders},
                      product_id__in={r.product_id for r in reminders},
                      purchase__purchased_on__gt=min(r.last_purchased_on for r in reminders))
              .values_list("purchase__contact_id", "product_id", "purchase__purchased_on"))
    latest: dict[tuple[int, int], dt.date] = {}
    for contact_id, product_id, day in bought:
        latest[contact_id, product_id] = max(day, latest.get((contact_id, product_id), day))
    return {r.message_id: (Status.SUPPRESSED, BOUGHT_SINCE) for r in reminders
            if latest.get((r.contact_id, r.product_id), r.last_purchased_on)
            > r.last_purchased_on}
