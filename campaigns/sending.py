"""Draining the outbox: claim rows, check them again at send time, send over SMTP, record.

The guarantee (docs/email-delivery.md has the long form):

* A row is sent only by the worker whose claim moved it QUEUED → SENDING (a conditional
  UPDATE, committed before any SMTP traffic), so two workers, or one task delivered twice,
  never send the same row.
* Just before a row's email is handed to the SMTP server its `sent_at` is stamped (the
  "hand-off" mark), in the same commit that records the previous row's result. A row still
  SENDING after CRM_EMAIL_STUCK_AFTER_MINUTES therefore tells recovery what happened:
  no hand-off mark → never offered to the server → back to QUEUED (nothing lost);
  hand-off mark → the server may or may not have it → UNKNOWN, never resent automatically.
  Only one row per connection carries the mark without a result, so a killed worker leaves
  at most one UNKNOWN row per open connection.
* SMTP replies are unambiguous and recorded as they come: 250 → SENT, 4xx or a connection
  lost before the body went out → QUEUED again after a back-off, 5xx for the recipient →
  BOUNCED and the address suppressed. A connection lost while the body was going out or the
  final reply was awaited is the same ambiguity as a kill → UNKNOWN.

Consent, suppression and the frequency cap are checked after the claim, at send time, so an
unsubscribe that lands after the audience was built still wins.
"""
import datetime as dt
import logging
import re
import smtplib
import uuid
from email.generator import BytesGenerator
from email.policy import Compat32
from io import BytesIO
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.language import contact_language
from customers.models import Contact, Purchase
from customers.normalise import normalise_email
from customers.services import contact_set_consent
from privacy.models import ConsentMethod

from .models import CampaignRun, Message, Suppression
from .rendering import build_email, message_contexts, render_email, template_translations

logger = logging.getLogger(__name__)

Status = Message.Status
# Minutes to wait before the 2nd, 3rd, ... attempt after a temporary failure; then FAILED.
BACKOFF_MINUTES = (1, 5, 30, 120, 360)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1

# Machine-readable reasons stored in Message.last_error for rows that were not sent.
NO_EMAIL, NO_CONSENT, FREQUENCY_CAP = "no_email", "no_consent", "frequency_cap"
BOUGHT_SINCE = "bought_since"
SUPPRESSED_PREFIX = "suppressed:"
REASON_LABELS = {
    NO_EMAIL: _("The contact has no email address."),
    NO_CONSENT: _("The contact has not agreed to marketing email."),
    FREQUENCY_CAP: _("The contact got a marketing email too recently."),
    BOUGHT_SINCE: _("The contact has bought since the email was queued."),
    SUPPRESSED_PREFIX + Suppression.Reason.UNSUBSCRIBED: _("The address unsubscribed."),
    SUPPRESSED_PREFIX + Suppression.Reason.BOUNCED: _("The address bounced before."),
    SUPPRESSED_PREFIX + Suppression.Reason.COMPLAINED: _("The address marked us as spam."),
    SUPPRESSED_PREFIX + Suppression.Reason.ERASED: _("The contact's data was erased."),
    "paused:detractor": _("The contact gave an unhappy survey answer recently."),
}


def reason_label(reason: str) -> str:
    """A translated explanation of a stored reason code; other text (SMTP errors) as is."""
    return str(REASON_LABELS.get(reason, reason))


@dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    suppressed: int = 0
    capped: int = 0
    deferred: int = 0
    failed: int = 0
    bounced: int = 0
    unknown: int = 0
    run_ids: set[int] = field(default_factory=set)


# --- Suppression and unsubscribe --------------------------------------------------------------

def address_suppress(*, email: str, reason: str, detail: str = "") -> Suppression:
    """Never send marketing email to this address again; an existing entry keeps its reason.

    The one way a suppression is written: the admin's add form, unsubscribe, bounces,
    complaints and erasure all call it. The address is stored as contacts' addresses are
    (customers.normalise.normalise_email: trimmed, lower case), which is what the send-time
    check and the audience compare with, so `Bob@Example.com` typed in the admin stops
    bob@example.com; a database constraint refuses any other form. ValidationError for
    something that is not an email address.
    """
    suppression, _created = Suppression.objects.get_or_create(
        email=normalise_email(email), defaults={"reason": reason, "detail": detail[:2000]})
    return suppression


# Reasons that say the person does not want marketing email (not that the address is dead or
# erased), with how staff entering one by hand learnt it.
_WITHDRAWING_REASONS = {Suppression.Reason.UNSUBSCRIBED: ConsentMethod.REQUEST,
                        Suppression.Reason.COMPLAINED: ConsentMethod.SPAM_COMPLAINT}


@transaction.atomic
def address_suppress_by_staff(*, email: str, reason: str, detail: str = "",
                              recorded_by=None, source: str = "admin") -> Suppression:
    """A suppression a manager enters by hand (the admin's add form). When the reason says the
    person said no and a contact has the address, their consent is withdrawn too, recorded by
    the manager, as contact_unsubscribe and complaint_record do: otherwise the contact would
    keep showing consent the ledger never saw withdrawn."""
    method = _WITHDRAWING_REASONS.get(reason)
    contact = (Contact.objects.filter(email=normalise_email(email)).first()
               if method is not None else None)
    if contact is not None:
        contact_set_consent(contact=contact, consent=False, source=source, method=method,
                            recorded_by=recorded_by)
    return address_suppress(email=email, reason=reason, detail=detail)


@transaction.atomic
def contact_unsubscribe(*, contact: Contact, source: str,
                        method: str = ConsentMethod.UNSUBSCRIBE_LINK) -> None:
    """Withdraw consent (a ledger record) and suppress the address; doing it again changes
    nothing."""
    contact_set_consent(contact=contact, consent=False, source=source, method=method)
    address_suppress(email=contact.email, reason=Suppression.Reason.UNSUBSCRIBED,
                     detail=source)


# --- Claiming ---------------------------------------------------------------------------------

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
        _batch_lease_release(now)
        raise
    if not ids:
        _batch_lease_release(now)
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


def _batch_key(claimed_at: dt.datetime) -> int:
    """The lease's lock key: the claim time in microseconds, exact as the database stores it."""
    return (claimed_at - _EPOCH) // dt.timedelta(microseconds=1)


def _batch_lease_take(now: dt.datetime) -> dt.datetime:
    """Take the lease of a new batch claimed at `now`, or a microsecond later if another worker
    claims at that very instant; returns the claim time to use."""
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_batch_key(now)])
            if cursor.fetchone()[0]:
                return now
            now += dt.timedelta(microseconds=1)


def _batch_lease_release(claimed_at: dt.datetime) -> None:
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_batch_key(claimed_at)])
    except DatabaseError:  # the session is gone, and the lease with it
        logger.warning("Could not release the lease of the batch claimed at %s", claimed_at)


# --- Recording results ------------------------------------------------------------------------

def _record(message: Message, claimed_at: dt.datetime, **fields) -> bool:
    """Write one row's outcome, only if our claim still holds (recovery may have moved a row
    of a very slow batch to UNKNOWN meanwhile; our result is the better knowledge)."""
    return bool(Message.objects.filter(
        pk=message.pk, claimed_at=claimed_at, status__in=[Status.SENDING, Status.UNKNOWN],
    ).update(**fields))


def _mark_handoff(message: Message, claimed_at: dt.datetime) -> bool:
    """Stamp the hand-off mark; False when the claim was lost (then the row must not be sent)."""
    return bool(Message.objects.filter(pk=message.pk, claimed_at=claimed_at,
                                       status=Status.SENDING).update(sent_at=timezone.now()))


def _record_and_mark(previous: Message, fields: dict, message: Message,
                     claimed_at: dt.datetime) -> tuple[bool, bool]:
    """One UPDATE (one round trip, one commit) that records `previous` and stamps the hand-off
    mark on `message`: the hot path, once per email. Returns (recorded, marked).

    Plain SQL, not the ORM: building this CASE expression through the ORM cost about a third
    of the sender's CPU per email (measured with cProfile).
    """
    now = timezone.now()
    table = connection.ops.quote_name(Message._meta.db_table)
    sets, params = [], []
    for name, value in fields.items():
        if name == "sent_at":
            continue
        field = _field(name)
        column = connection.ops.quote_name(field.column)
        sets.append(f"{column} = CASE WHEN id = %s THEN %s ELSE {column} END")
        params += [previous.pk, field.get_db_prep_value(value, connection)]
    sent_at = connection.ops.quote_name(_field("sent_at").column)
    prep = _field("sent_at").get_db_prep_value
    if "sent_at" in fields:
        sets.append(f"{sent_at} = CASE WHEN id = %s THEN %s WHEN id = %s THEN %s "
                    f"ELSE {sent_at} END")
        params += [message.pk, prep(now, connection), previous.pk,
                   prep(fields["sent_at"], connection)]
    else:
        sets.append(f"{sent_at} = CASE WHEN id = %s THEN %s ELSE {sent_at} END")
        params += [message.pk, prep(now, connection)]
    claimed = connection.ops.quote_name(_field("claimed_at").column)
    params += [previous.pk, message.pk, prep(claimed_at, connection), Status.SENDING,
               Status.UNKNOWN]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE id IN (%s, %s) "
                       f"AND {claimed} = %s AND status IN (%s, %s)", params)
        updated = cursor.rowcount
    if updated == 2:
        return True, True
    # A claim was lost (recovery ran on a very slow batch): find out which row is still ours.
    marked = Message.objects.filter(pk=message.pk, claimed_at=claimed_at, status=Status.SENDING,
                                    sent_at=now).exists()
    return updated - marked == 1, marked


def _field(name: str):
    return Message._meta.get_field(name)


def _retry_fields(message: Message, error: str, now: dt.datetime) -> dict:
    if message.attempts >= MAX_ATTEMPTS:
        return {"status": Status.FAILED, "last_error": error, "sent_at": None, "failed_at": now}
    wait = dt.timedelta(minutes=BACKOFF_MINUTES[max(message.attempts, 1) - 1])
    return {"status": Status.QUEUED, "not_before": now + wait, "last_error": error,
            "sent_at": None}


def _release(messages: list[Message], claimed_at: dt.datetime,
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


# --- One sender per contact at a time (PostgreSQL) --------------------------------------------

# Advisory locks are one namespace per database: this first key says "a contact being sent to".
_SENDING_LOCK_SPACE = 0x43524D  # "CRM"
# A row whose contact another worker is sending to waits this long, then is due again.
CONTACT_BUSY_WAIT = dt.timedelta(minutes=1)


def _contacts_lock(contact_ids: set[int]) -> set[int]:
    """Take the sending lock of these contacts (session-level, released by _contacts_unlock or
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


def _contacts_unlock(contact_ids: set[int]) -> None:
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

def _blocked(messages: list[Message], now: dt.datetime) -> dict[int, tuple[str, str]]:
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
    # Promotions pause after an unhappy survey answer (feedback builds on campaigns).
    from feedback.selectors import promotions_paused

    blocked.update(promotions_paused(messages, now=now, already=blocked))
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


# --- SMTP -------------------------------------------------------------------------------------

class Temporary(Exception):
    """Nothing was accepted; try again later (4xx, or the connection failed before the body)."""


class ConnectionLost(Temporary):
    """The connection broke before the body went out: reconnecting may help at once."""


class ServerUnavailable(Temporary):
    """No connection could be opened: the rest of the batch waits too."""


class Bounce(Exception):
    """The server refused the recipient for good (5xx at RCPT)."""


class Rejected(Exception):
    """A permanent refusal that is not about the address (5xx at MAIL FROM or after DATA)."""


class Ambiguous(Exception):
    """The connection broke while the body was out: the server may or may not have the email."""


def _response_error(code: int, text: str, *, recipient: bool) -> Exception:
    detail = f"{code} {text}"
    if 400 <= code < 500:
        return Temporary(detail)
    return Bounce(detail) if recipient else Rejected(detail)


def _reply_text(reply) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _dot_stuff(data: bytes) -> bytes:
    """RFC 5321 transparency: a line starting with '.' gets another '.'; end with CRLF.CRLF."""
    data = data.replace(b"\r\n.", b"\r\n..")
    if data.startswith(b"."):
        data = b"." + data
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


@lru_cache(maxsize=16)
def _sender_address(from_email: str, encoding: str) -> str:
    """The envelope sender: the same few From addresses for every email, parsed once."""
    return sanitize_address(from_email, encoding)


class _WirePolicy(Compat32):
    """Django's policy (compat32), with a shortcut for the common header: ASCII, one line,
    short enough not to fold. Folding builds an email.header.Header per header, a fifth of
    the sender's CPU in a profile, to return such a value unchanged.
    (campaigns/tests/test_wire_format.py checks the bytes are the same as Django's.)"""

    def _fold(self, name, value, sanitize):
        if (isinstance(value, str) and value.isascii() and "\r" not in value
                and "\n" not in value and value == value.strip()
                and len(name) + 2 + len(value) <= (self.max_line_length or 78)):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_WIRE_POLICY = _WirePolicy(linesep="\r\n")


# A bare ASCII address of the usual characters (what contact addresses are after
# customers.normalise): Django's sanitize_address returns it unchanged, after parsing it with
# the email package's full header grammar (a tenth of the sender's CPU in a profile).
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _recipient_address(address: str, encoding: str) -> str:
    if _PLAIN_ADDRESS.fullmatch(address):
        return address
    return sanitize_address(address, encoding)


def _mime_bytes(email) -> bytes:
    """The email as it goes on the wire: what Django's `email.message().as_bytes()` gives,
    with CRLF line ends, made with less CPU.

    A multipart email gets its boundary here: left to itself, the email package draws a
    random one and then compiles a regular expression per email to make sure the body does
    not contain it, a new pattern every time, which also flushes the `re` module's cache (a
    tenth of the sender's CPU in a profile). 128 random bits cannot occur in a body by chance,
    and nobody writing a body can know them in advance.
    """
    mime = email.message()
    if mime.is_multipart():
        mime.set_boundary(f"=_crm_{uuid.uuid4().hex}")
    return wire_bytes(mime)


def wire_bytes(mime) -> bytes:
    """`mime.as_bytes(linesep="\r\n")` of a Django email message, faster (_WirePolicy)."""
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_WIRE_POLICY).flatten(mime, linesep="\r\n")
    return out.getvalue()


class Outbound:
    """One SMTP connection for a batch, opened on first use and reopened after a failure.

    For Django's SMTP backend it speaks MAIL/RCPT/DATA itself (smtplib's public commands), to
    know whether a failure happened before the body went out (safe to retry) or after
    (ambiguous). Other backends (locmem in tests, console) just get send_messages().
    """

    def __init__(self) -> None:
        self.backend = get_connection(fail_silently=False)
        self.is_smtp = isinstance(self.backend, SMTPBackend)
        self.delivered_on_connection = 0

    def close(self) -> None:
        try:
            self.backend.close()  # Django's SMTP backend forgets the connection even on errors
        except Exception:  # noqa: BLE001 - closing a broken connection is best effort
            logger.debug("Closing the SMTP connection failed", exc_info=True)

    def send(self, email) -> None:
        if not self.is_smtp:
            self._send_other(email)
            return
        try:
            self._send_smtp(email)
        except ConnectionLost:
            if not self.delivered_on_connection:
                raise
            # A server may close an idle or long-used connection: reconnect once, right away.
            self.delivered_on_connection = 0
            self._send_smtp(email)
        self.delivered_on_connection += 1

    def _send_other(self, email) -> None:
        try:
            self.backend.send_messages([email])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise _response_error(code, _reply_text(text), recipient=True) from error
        except smtplib.SMTPResponseException as error:
            raise _response_error(error.smtp_code, _reply_text(error.smtp_error),
                                  recipient=False) from error
        except OSError as error:
            raise Temporary(str(error)) from error

    def _open(self) -> smtplib.SMTP:
        if self.backend.connection is None:
            try:
                self.backend.open()
                self.backend.connection.ehlo_or_helo_if_needed()
            except OSError as error:  # smtplib errors are OSErrors too
                self.close()
                raise ServerUnavailable(str(error)) from error
            self.delivered_on_connection = 0
        return self.backend.connection

    def _envelope(self, smtp: smtplib.SMTP, sender: str, recipients: list[str]) -> None:
        code, reply = smtp.mail(sender)
        if code != 250:
            raise _response_error(code, _reply_text(reply), recipient=False)
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise _response_error(code, _reply_text(reply), recipient=True)
        code, reply = smtp.docmd("data")
        if code != 354:
            raise _response_error(code, _reply_text(reply), recipient=False)

    def _send_smtp(self, email) -> None:
        encoding = email.encoding or settings.DEFAULT_CHARSET
        sender = _sender_address(email.from_email, encoding)
        recipients = [_recipient_address(address, encoding) for address in email.recipients()]
        data = _dot_stuff(_mime_bytes(email))
        smtp = self._open()
        try:
            self._envelope(smtp, sender, recipients)
        except (Temporary, Bounce, Rejected):
            self._reset(smtp)
            raise
        except OSError as error:
            self.close()
            raise ConnectionLost(str(error)) from error
        # The body goes out: from here a broken connection leaves the outcome unknown.
        try:
            smtp.send(data)
            code, reply = smtp.getreply()
        except OSError as error:
            self.close()
            raise Ambiguous(str(error)) from error
        if code != 250:
            raise _response_error(code, _reply_text(reply), recipient=False)

    def _reset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except OSError:
            self.close()


# --- The batch --------------------------------------------------------------------------------

def _load(ids: list[int], claimed_at: dt.datetime) -> list[Message]:
    return list(Message.objects.filter(pk__in=ids, claimed_at=claimed_at, status=Status.SENDING)
                .select_related("contact", "coupon", "campaign__template").order_by("pk"))


def _outcome_fields(message: Message, error: Exception | None, email: str,
                    now: dt.datetime) -> tuple[str, dict]:
    if error is None:
        return "sent", {"status": Status.SENT, "sent_at": now, "to_email": email,
                        "last_error": ""}
    text = str(error)[:2000]
    if isinstance(error, Temporary):
        fields = _retry_fields(message, text, now)
        return ("failed" if fields["status"] == Status.FAILED else "deferred"), fields
    if isinstance(error, Bounce):
        return "bounced", {"status": Status.BOUNCED, "to_email": email, "last_error": text,
                           "sent_at": None}
    if isinstance(error, Ambiguous):
        return "unknown", {"status": Status.UNKNOWN, "to_email": email, "last_error": text}
    return "failed", {"status": Status.FAILED, "to_email": email, "last_error": text,
                      "sent_at": None, "failed_at": now}


class _Batch:
    """Sends the claimed rows one by one; each result is committed together with the next
    row's hand-off mark, so at most one row is ever marked without a result."""

    def __init__(self, claimed_at: dt.datetime, report: SendReport) -> None:
        self.claimed_at, self.report = claimed_at, report
        self.translations: dict = {}  # rendering.Translations of the batch's templates
        self.pending: tuple[Message, str, dict] | None = None
        self.contacts_sent: set[int] = set()
        self.stopped: Exception | None = None

    def flush(self) -> None:
        if self.pending is None:
            return
        message, counter, fields = self.pending
        self.pending = None
        self._recorded(counter, fields, _record(message, self.claimed_at, **fields))

    def _recorded(self, counter: str, fields: dict, done: bool) -> None:
        if done:
            setattr(self.report, counter, getattr(self.report, counter) + 1)
        if fields["status"] == Status.BOUNCED:
            address_suppress(email=fields["to_email"], reason=Suppression.Reason.BOUNCED,
                             detail=fields["last_error"])

    def finish_now(self, message: Message, status: str, reason: str) -> None:
        """A row decided without SMTP (blocked, or its template failed to render)."""
        counter = {Status.SUPPRESSED: "suppressed", Status.CAPPED: "capped"}.get(status, "failed")
        fields = {"status": status, "last_error": reason, "to_email": message.contact.email}
        if status == Status.FAILED:
            fields["failed_at"] = timezone.now()
        self.pending_then(message, counter, fields)
        self.flush()

    def pending_then(self, message: Message, counter: str, fields: dict) -> None:
        self.flush()
        self.pending = (message, counter, fields)

    def handoff(self, message: Message) -> bool:
        if self.pending is None:
            return _mark_handoff(message, self.claimed_at)
        previous, counter, fields = self.pending
        self.pending = None
        recorded, marked = _record_and_mark(previous, fields, message, self.claimed_at)
        self._recorded(counter, fields, recorded)
        return marked


def _defer_all(messages: list[Message], claimed_at: dt.datetime, error: str,
               report: SendReport) -> None:
    """The server cannot be reached: the rest of the batch waits its back-off too, rather than
    each row trying (and timing out) in turn, or going straight back to an eager queue."""
    now = timezone.now()
    for message in messages:
        fields = _retry_fields(message, error, now)
        if Message.objects.filter(pk=message.pk, claimed_at=claimed_at, status=Status.SENDING,
                                  sent_at__isnull=True).update(**fields):
            counter = "failed" if fields["status"] == Status.FAILED else "deferred"
            setattr(report, counter, getattr(report, counter) + 1)


def _settle_after_error(batch: _Batch, rest: list[Message], claimed_at: dt.datetime) -> None:
    """After an unexpected error (a database error, a kill signal turned exception): write the
    result we know, and put rows never offered to the server back in the queue. Whatever
    cannot be written here, recovery settles later."""
    try:
        batch.flush()
        _release(rest, claimed_at)
    except Exception:  # noqa: BLE001 - recovery handles what is left; keep the first error
        logger.exception("Could not settle the rest of a sending batch")


def _batch_translations(messages: list[Message]) -> dict:
    """The translations a batch needs, in one query, and none when every contact gets the
    default language (the template itself)."""
    if all(contact_language(m.contact) == settings.LANGUAGE_CODE for m in messages):
        return {}
    return template_translations(m.campaign.template_id for m in messages)


def _send_one(batch: _Batch, outbound: Outbound, message: Message, context: dict) -> bool:
    """Render, mark, send; True if the server took the email."""
    batch.stopped = None
    if message.contact_id in batch.contacts_sent:
        batch.finish_now(message, Status.CAPPED, FREQUENCY_CAP)
        return False
    try:
        rendered = render_email(message.campaign.template, context,
                                language=contact_language(message.contact),
                                translations=batch.translations)
        email = build_email(message, outbound.backend, context=context, rendered=rendered)
    except Exception as error:  # noqa: BLE001 - one broken row must not stop the batch
        logger.warning("Message %s could not be rendered: %s", message.pk, error)
        batch.finish_now(message, Status.FAILED, str(error)[:2000])
        return False
    if not batch.handoff(message):
        return False
    error = None
    try:
        outbound.send(email)
    except (Temporary, Bounce, Rejected, Ambiguous) as failure:
        error = failure
    counter, fields = _outcome_fields(message, error, message.contact.email, timezone.now())
    batch.pending = (message, counter, fields)
    batch.stopped = error
    if error is None:
        batch.contacts_sent.add(message.contact_id)
    return error is None


def _send_claimed(ids: list[int], claimed_at: dt.datetime, report: SendReport) -> None:
    messages = _load(ids, claimed_at)
    report.run_ids.update(m.run_id for m in messages)
    locked = {m.contact_id for m in messages}
    busy = _contacts_lock(locked)
    locked -= busy
    try:
        if busy:  # another worker is sending to them: theirs first, the cap then decides
            waiting = [m for m in messages if m.contact_id in busy]
            report.deferred += _release(waiting, claimed_at,
                                        not_before=timezone.now() + CONTACT_BUSY_WAIT)
            messages = [m for m in messages if m.contact_id not in busy]
        _send_locked(messages, claimed_at, report)
    finally:
        _contacts_unlock(locked)


def _send_locked(messages: list[Message], claimed_at: dt.datetime, report: SendReport) -> None:
    batch = _Batch(claimed_at, report)
    blocked = _blocked(messages, timezone.now())
    for message in messages:
        if message.pk in blocked:
            batch.finish_now(message, *blocked[message.pk])
    to_send = [m for m in messages if m.pk not in blocked]
    contexts = message_contexts(to_send)
    batch.translations = _batch_translations(to_send)
    outbound = Outbound()
    done = 0
    try:
        for message in to_send:
            done += 1
            if not _send_one(batch, outbound, message, contexts[message.pk]) \
                    and isinstance(batch.stopped, ServerUnavailable):
                _defer_all(to_send[done:], claimed_at, str(batch.stopped), report)
                break
        batch.flush()
    finally:
        outbound.close()
        _settle_after_error(batch, to_send[done - 1 if done else 0:], claimed_at)


def send_claimed(ids: list[int], claimed_at: dt.datetime) -> SendReport:
    """Send a batch claim_batch returned, over one SMTP connection, and release its lease."""
    report = SendReport(claimed=len(ids))
    if not ids:
        return report
    try:
        _send_claimed(ids, claimed_at, report)
    finally:
        _batch_lease_release(claimed_at)
    return report


def send_due_messages(*, run_id: int | None = None, limit: int | None = None) -> SendReport:
    """Claim one batch of due rows (of one run, or of all SENDING runs) and send it over one
    SMTP connection. Safe to call from any number of workers at once."""
    ids, claimed_at = claim_batch(run_id=run_id, limit=limit or settings.CRM_EMAIL_BATCH_SIZE)
    return send_claimed(ids, claimed_at)


# --- Runs and recovery ------------------------------------------------------------------------

def run_finish_if_drained(run_id: int) -> bool:
    """Mark a SENDING run DONE once no row is QUEUED or SENDING; True if this call did it."""
    pending = Message.objects.filter(run=OuterRef("pk"),
                                     status__in=[Status.QUEUED, Status.SENDING])
    return bool(CampaignRun.objects.filter(pk=run_id, status=CampaignRun.Status.SENDING)
                .filter(~Exists(pending))
                .update(status=CampaignRun.Status.DONE, finished_at=timezone.now()))


@dataclass
class RecoveryReport:
    requeued: int = 0
    unknown: int = 0
    run_ids: set[int] = field(default_factory=set)


def _settle_dead_rows(rows, reason: str) -> tuple[int, int]:
    """Rows of a batch whose worker is gone: offered to the server (hand-off mark) → UNKNOWN,
    never offered → QUEUED again, the attempt not counted. Returns (requeued, unknown)."""
    with transaction.atomic():
        unknown = rows.filter(sent_at__isnull=False).update(status=Status.UNKNOWN,
                                                             last_error=reason)
        requeued = rows.filter(sent_at__isnull=True).update(
            status=Status.QUEUED, claimed_at=None, attempts=F("attempts") - 1)
    if unknown:
        logger.warning("%d message(s) may or may not have been delivered (UNKNOWN)", unknown)
    return requeued, unknown


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
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_batch_key(claimed_at)])
            if not cursor.fetchone()[0]:
                continue  # its worker is alive and sending
        try:
            rows = Message.objects.filter(status=Status.SENDING, claimed_at=claimed_at)
            report.run_ids |= set(rows.values_list("run_id", flat=True).distinct())
            requeued, unknown = _settle_dead_rows(rows, _DEAD_WORKER)
            report.requeued += requeued
            report.unknown += unknown
        finally:
            _batch_lease_release(claimed_at)
    return report


def recover_stuck_messages(*, now: dt.datetime | None = None) -> RecoveryReport:
    """Settle rows left SENDING longer than CRM_EMAIL_STUCK_AFTER_MINUTES: the rule on SQLite,
    and on PostgreSQL the last resort for a worker that is alive but hung (its lease is held)."""
    now = now or timezone.now()
    stuck = Message.objects.filter(
        status=Status.SENDING,
        claimed_at__lt=now - dt.timedelta(minutes=settings.CRM_EMAIL_STUCK_AFTER_MINUTES))
    run_ids = set(stuck.values_list("run_id", flat=True).distinct())
    requeued, unknown = _settle_dead_rows(stuck, _DEAD_WORKER)
    return RecoveryReport(requeued=requeued, unknown=unknown, run_ids=run_ids)


def requeue_unknown_messages(message_ids: list[int]) -> int:
    """Staff decided to resend UNKNOWN rows: they go out again with the same Message-ID, so a
    receiver that kept the first copy can drop the second. The rows only: their run is
    usually DONE by then and claims take rows of SENDING runs only, so callers go through
    campaigns.outbox_actions.messages_send_again, which reopens it."""
    return Message.objects.filter(pk__in=message_ids, status=Status.UNKNOWN).update(
        status=Status.QUEUED, claimed_at=None, sent_at=None, not_before=timezone.now())
