"""Sending one claimed batch: checks, rendering, SMTP, one result per row."""
import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from customers.language import contact_language

from ..models import Message, Suppression
from ..rendering import (
    build_email,
    message_contexts,
    render_email,
    template_translations,
)
from ..clicks import links_rewrite
from ..dkim import signer
from ..smtp import Ambiguous, Bounce, Outbound, Rejected, ServerUnavailable, Temporary
from ..suppression import address_suppress
from .checks import (
    CONTACT_BUSY_WAIT,
    PAUSED_WAIT,
    blocked_messages,
    contacts_lock,
    contacts_unlock,
    sending_pause,
)
from .claim import batch_lease_release, claim_batch
from .outcomes import FREQUENCY_CAP, SendReport
from .record import (
    mark_handoff,
    record_and_mark,
    record_result,
    release_unsent,
    retry_fields,
)

logger = logging.getLogger(__name__)
Status = Message.Status


def _load(ids: list[int], claimed_at: dt.datetime) -> list[Message]:
    return list(Message.objects.filter(pk__in=ids, claimed_at=claimed_at, status=Status.SENDING)
                .select_related("contact", "coupon", "campaign__template", "template")
                .order_by("pk"))


def _outcome_fields(message: Message, error: Exception | None, email: str,
                    now: dt.datetime, provider_id: str = "") -> dict:
    """The row's columns after the server's answer (`error` None: it took the email;
    `provider_id`: the email service's id for it)."""
    if error is None:
        fields = {"status": Status.SENT, "sent_at": now, "to_email": email, "last_error": ""}
        if provider_id:
            fields["provider_message_id"] = provider_id
        return fields
    text = str(error)[:2000]
    if isinstance(error, Temporary):
        return retry_fields(message, text, now)
    if isinstance(error, Bounce):
        return {"status": Status.BOUNCED, "to_email": email, "last_error": text,
                "sent_at": None}
    if isinstance(error, Ambiguous):
        return {"status": Status.UNKNOWN, "to_email": email, "last_error": text}
    return {"status": Status.FAILED, "to_email": email, "last_error": text, "sent_at": None,
            "failed_at": now}


class _Batch:
    """Sends the claimed rows one by one; each result is committed together with the next
    row's hand-off mark, so at most one row is ever marked without a result."""

    def __init__(self, claimed_at: dt.datetime, report: SendReport) -> None:
        self.claimed_at, self.report = claimed_at, report
        self.translations: dict = {}  # rendering.Translations of the batch's templates
        # The row handed to the server whose result is written with the next row's mark.
        self.pending: tuple[Message, dict] | None = None
        self.contacts_sent: set[int] = set()

    def flush(self) -> None:
        if self.pending is None:
            return
        message, fields = self.pending
        self.pending = None
        self._recorded(fields, record_result(message, self.claimed_at, **fields))

    def _recorded(self, fields: dict, done: bool) -> None:
        if done:
            self.report.count(fields["status"])
        if fields["status"] == Status.BOUNCED:
            address_suppress(email=fields["to_email"], reason=Suppression.Reason.BOUNCED,
                             detail=fields["last_error"])

    def finish_now(self, message: Message, status: str, reason: str) -> None:
        """A row decided without SMTP (blocked, or its template failed to render)."""
        fields = {"status": status, "last_error": reason, "to_email": message.contact.email}
        if status == Status.FAILED:
            fields["failed_at"] = timezone.now()
        self.flush()
        self._recorded(fields, record_result(message, self.claimed_at, **fields))

    def handoff(self, message: Message) -> bool:
        """Stamp the row's hand-off mark (with the previous row's result, in one commit);
        False when the claim was lost and the row must not be sent."""
        if self.pending is None:
            return mark_handoff(message, self.claimed_at)
        previous, fields = self.pending
        self.pending = None
        recorded, marked = record_and_mark(previous, fields, message, self.claimed_at)
        self._recorded(fields, recorded)
        return marked

    def answered(self, message: Message, error: Exception | None,
                 provider_id: str = "") -> None:
        """The server answered for the row handed over last: its result waits for the next
        row's hand-off (or flush)."""
        self.pending = (message, _outcome_fields(message, error, message.contact.email,
                                                 timezone.now(), provider_id))
        if error is None:
            self.contacts_sent.add(message.contact_id)


def _defer_all(messages: list[Message], claimed_at: dt.datetime, error: str,
               report: SendReport) -> None:
    """The server cannot be reached: the rest of the batch waits its back-off too, rather than
    each row trying (and timing out) in turn, or going straight back to an eager queue."""
    now = timezone.now()
    for message in messages:
        fields = retry_fields(message, error, now)
        if Message.objects.filter(pk=message.pk, claimed_at=claimed_at, status=Status.SENDING,
                                  sent_at__isnull=True).update(**fields):
            report.count(fields["status"])


def _settle_after_error(batch: _Batch, rest: list[Message], claimed_at: dt.datetime) -> None:
    """After an unexpected error (a database error, a kill signal turned exception): write the
    result we know, and put rows never offered to the server back in the queue. Whatever
    cannot be written here, recovery settles later."""
    try:
        batch.flush()
        release_unsent(rest, claimed_at)
    except Exception:  # recovery handles what is left; keep the first error
        logger.exception("Could not settle the rest of a sending batch")


def _batch_translations(messages: list[Message]) -> dict:
    """The translations a batch needs, in one query, and none when every contact gets the
    default language (the template itself)."""
    if all(contact_language(m.contact) == settings.LANGUAGE_CODE for m in messages):
        return {}
    return template_translations(m.email_template_id for m in messages)


def _send_one(batch: _Batch, outbound: Outbound, message: Message,
              context: dict) -> Exception | None:
    """Render, mark, send. Returns the server's refusal or failure for this row, None when it
    took the email or the row was decided without it (capped, unrenderable, claim lost)."""
    if message.contact_id in batch.contacts_sent:
        batch.finish_now(message, Status.CAPPED, FREQUENCY_CAP)
        return None
    try:
        rendered = links_rewrite(render_email(message.email_template, context,
                                              language=contact_language(message.contact),
                                              translations=batch.translations), message.pk)
        email = build_email(message, outbound.backend, context=context, rendered=rendered)
    except Exception as error:  # noqa: BLE001 - one broken row must not stop the batch
        logger.warning("Message %s could not be rendered: %s", message.pk, error)
        batch.finish_now(message, Status.FAILED, str(error)[:2000])
        return None
    if not batch.handoff(message):
        return None
    error, provider_id = None, ""
    try:
        provider_id = outbound.send(email)
    except (Temporary, Bounce, Rejected, Ambiguous) as failure:
        error = failure
    batch.answered(message, error, provider_id)
    return error


def _send_claimed(ids: list[int], claimed_at: dt.datetime, report: SendReport) -> None:
    messages = _load(ids, claimed_at)
    report.run_ids.update(m.run_id for m in messages)
    locked = {m.contact_id for m in messages}
    busy = contacts_lock(locked)
    locked -= busy
    try:
        if busy:  # another worker is sending to them: theirs first, the cap then decides
            waiting = [m for m in messages if m.contact_id in busy]
            report.deferred += release_unsent(waiting, claimed_at,
                                              not_before=timezone.now() + CONTACT_BUSY_WAIT)
            messages = [m for m in messages if m.contact_id not in busy]
        _send_locked(messages, claimed_at, report)
    finally:
        contacts_unlock(locked)


def _send_locked(messages: list[Message], claimed_at: dt.datetime, report: SendReport) -> None:
    paused = sending_pause()
    if paused:  # nothing leaves, nothing is lost: the rows wait in the queue as they were
        logger.error("Not sending %d claimed email(s): %s", len(messages), paused)
        report.deferred += release_unsent(messages, claimed_at,
                                          not_before=timezone.now() + PAUSED_WAIT)
        return
    batch = _Batch(claimed_at, report)
    blocked = blocked_messages(messages, timezone.now())
    for message in messages:
        if message.pk in blocked:
            batch.finish_now(message, *blocked[message.pk])
    to_send = [m for m in messages if m.pk not in blocked]
    contexts = message_contexts(to_send)
    batch.translations = _batch_translations(to_send)
    outbound = Outbound(signer=signer())  # DKIM: None when not configured
    done = 0
    try:
        for message in to_send:
            done += 1
            failure = _send_one(batch, outbound, message, contexts[message.pk])
            if isinstance(failure, ServerUnavailable):
                _defer_all(to_send[done:], claimed_at, str(failure), report)
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
        batch_lease_release(claimed_at)
    return report


def send_due_messages(*, run_id: int | None = None, limit: int | None = None) -> SendReport:
    """Claim one batch of due rows (of one run, or of all SENDING runs) and send it over one
    SMTP connection. Safe to call from any number of workers at once."""
    ids, claimed_at = claim_batch(run_id=run_id, limit=limit or settings.CRM_EMAIL_BATCH_SIZE)
    return send_claimed(ids, claimed_at)
