"""Sending through an email service (django-anymail: Amazon SES, Mailgun, Postmark, SendGrid,
Brevo; CRM_EMAIL_SERVICE) with the outbox's guarantee, and the service's webhooks feeding the
same bounce, complaint, suppression and consent code as delivery reports by email.

Sending (`service_send`, called by campaigns.smtp.Outbound for each email): the service's
answers are sorted like SMTP replies, so campaigns.outbox records them the same way:
- accepted -> SENT, with the service's id for the email (Message.provider_message_id);
- every recipient refused (the service's own suppression list, an invalid address) ->
  Bounce: BOUNCED and the address suppressed;
- no connection made (refused, DNS, connect timeout), or the service's API key refused (401,
  403) -> ServerUnavailable: the batch waits and retries, nothing is lost;
- 429 and 5xx -> Temporary: the row retries after its back-off;
- the request went out and no answer came (read timeout, connection dropped) -> Ambiguous:
  UNKNOWN, never resent automatically (the service may have it: sending again could send
  twice);
- any other refusal (400, 422: a malformed email) -> Rejected: FAILED.
Click and open tracking by the service are switched off where its API allows it per email
(Postmark, Mailgun, SendGrid): links stay as written.

Webhooks (`service_event_record`, connected to anymail's `tracking` signal): anymail checks
the request (HTTP basic auth with CRM_EMAIL_SERVICE_WEBHOOK_SECRET on every service; Mailgun's
signing key and SendGrid's signature as well) and normalises the event. Each event is kept
once per (service, event id) (EmailServiceEvent), so a replay changes nothing; an event about
an email we did not send is recorded as skipped, with a log line, and changes nothing.
"""
import hashlib
import logging
from typing import Any

import requests
from django.db import IntegrityError, transaction

from .bounces import row_complained, rows_bounced
from .models import EmailServiceEvent, Message
from .smtp import Ambiguous, Bounce, Rejected, ServerUnavailable, Temporary

logger = logging.getLogger(__name__)

# anymail's normalised event types (anymail.signals.EventType) and what they do here.
BOUNCED, REJECTED, FAILED = "bounced", "rejected", "failed"
COMPLAINED, UNSUBSCRIBED = "complained", "unsubscribed"
# A rejection for one of these reasons (anymail.signals.RejectReason) means the address does
# not take email: the same as a bounce. Others (the service's policy) fail the row only.
_ADDRESS_REJECTIONS = {"invalid", "bounced", "timed_out"}
# Services whose API switches click and open tracking per email; Amazon SES and Brevo have it
# in the account (a configuration set, the account's settings): docs/email-delivery.md.
_TRACKING_PER_EMAIL = {"Postmark", "Mailgun", "SendGrid"}


def service_send(backend: Any, email: Any) -> str:
    """Send one email through the anymail backend; returns the service's id for it. Raises
    the campaigns.smtp outcome the answer means (module doc)."""
    from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused

    if backend.esp_name in _TRACKING_PER_EMAIL:
        email.track_clicks = False
        email.track_opens = False
    # Events also carry it back where the service passes metadata through.
    email.metadata = {"crm_message_id": str(email.extra_headers.get("Message-ID", ""))}
    try:
        backend.send_messages([email])
    except AnymailRecipientsRefused as error:
        raise Bounce(_status_text(email, str(error))) from error
    except AnymailAPIError as error:
        raise _api_error_outcome(error) from error
    except AnymailError as error:  # serialisation, an unsupported feature: this email only
        raise Rejected(str(error)[:2000]) from error
    status = getattr(email, "anymail_status", None)
    return str(getattr(status, "message_id", "") or "")[:200]


def _status_text(email: Any, fallback: str) -> str:
    status = getattr(email, "anymail_status", None)
    recipients = getattr(status, "recipients", None) or {}
    texts = [f"{address}: {getattr(item, 'status', '')}" for address, item in recipients.items()]
    return ("; ".join(texts) or fallback)[:2000]


def _api_error_outcome(error: Exception) -> Exception:
    """The campaigns.smtp outcome of an anymail API error (module doc)."""
    text = str(error)[:2000]
    cause = error.__cause__
    status = getattr(error, "status_code", None)
    response = getattr(error, "response", None)
    if status is None and isinstance(response, dict):  # boto3 (Amazon SES)
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if response.get("Error", {}).get("Code") in ("Throttling", "TooManyRequestsException",
                                                      "ThrottlingException"):
            status = 429
    if status is not None:
        if status in (401, 403):
            return ServerUnavailable(text)
        if status == 429 or status >= 500:
            return Temporary(text)
        return Rejected(text)
    if _not_connected(cause):
        return ServerUnavailable(text)
    return Ambiguous(text)


def _not_connected(cause: BaseException | None) -> bool:
    """Whether the request failed before it reached the service (safe to send again)."""
    if cause is None:
        return False
    if isinstance(cause, requests.ConnectTimeout):
        return True
    if isinstance(cause, requests.ConnectionError):
        text = repr(cause)
        return any(sign in text for sign in ("NewConnectionError", "NameResolutionError",
                                             "Failed to resolve", "Connection refused"))
    try:
        from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError
    except ImportError:  # boto3 not installed: not Amazon SES
        return False
    return isinstance(cause, EndpointConnectionError | ConnectTimeoutError)


def _event_key(service: str, event: Any) -> str:
    if event.event_id:
        return str(event.event_id)[:200]
    parts = [service, event.event_type, event.message_id or "", event.recipient or "",
             event.timestamp.isoformat() if event.timestamp else ""]
    return "sha256:" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _our_message(event: Any) -> Message | None:
    rows = Message.objects.select_for_update(of=("self",)).select_related("contact")
    if event.message_id:
        row = rows.filter(provider_message_id=str(event.message_id)[:200]).first()
        if row is not None:
            return row
    ours = (event.metadata or {}).get("crm_message_id") if isinstance(event.metadata,
                                                                       dict) else None
    return rows.filter(message_id=ours).first() if ours else None


def service_event_record(*, service: str, event: Any) -> EmailServiceEvent:
    """Act on one normalised anymail tracking event, once (module doc)."""
    key = _event_key(service, event)
    try:
        with transaction.atomic():
            record = EmailServiceEvent.objects.create(
                service=service[:32], event_id=key, event_type=str(event.event_type)[:32],
                provider_message_id=str(event.message_id or "")[:200],
                recipient=str(event.recipient or "")[:254], occurred_at=event.timestamp,
                outcome=EmailServiceEvent.Outcome.NOTED,
                detail=str(event.mta_response or event.description or "")[:2000])
            row = _our_message(event)
            if row is None:
                logger.warning("Email service %s: %s event for %s about an email we did not "
                               "send (id %r): skipped", service, event.event_type,
                               event.recipient, event.message_id)
                record.outcome = EmailServiceEvent.Outcome.UNKNOWN_MESSAGE
            else:
                record.message = row
                if _apply(row, event, service, record.detail):
                    record.outcome = EmailServiceEvent.Outcome.APPLIED
            record.save(update_fields=["outcome", "message"])
    except IntegrityError:  # the same event again (a replay, or the service's retry)
        logger.info("Email service %s: event %s received again: nothing changed", service,
                    key)
        return EmailServiceEvent.objects.get(service=service[:32], event_id=key)
    return record


def _apply(row: Message, event: Any, service: str, detail: str) -> bool:
    """What the event changes for our row; False when it changes nothing."""
    kind = event.event_type
    address = (event.recipient or row.to_email or row.contact.email).lower()
    if kind == BOUNCED and _temporary(event):
        return False
    if kind == BOUNCED or (kind == REJECTED and event.reject_reason in _ADDRESS_REJECTIONS):
        rows_bounced([row], {address: detail or kind})
        return True
    if kind == COMPLAINED:
        row_complained(row, source=f"spam complaint ({service})")
        return True
    if kind == UNSUBSCRIBED:
        from .suppression import contact_unsubscribe

        if row.contact.email.lower() == address:
            contact_unsubscribe(contact=row.contact, source=f"unsubscribe ({service})")
            return True
        return False
    if kind in (REJECTED, FAILED) and row.status == Message.Status.SENT:
        row.status, row.last_error = Message.Status.FAILED, (detail or kind)[:2000]
        row.save(update_fields=["status", "last_error"])
        return True
    return False  # delivered, deferred, queued, opened, clicked...: nothing to change


def _temporary(event: Any) -> bool:
    """A bounce the service itself calls temporary (anymail reports Postmark's soft bounces
    as bounced): the email may still arrive, the address is not suppressed."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    return raw.get("Type") in _TEMPORARY_BOUNCE_TYPES


_TEMPORARY_BOUNCE_TYPES = {"SoftBounce", "Transient", "DnsError"}


def tracking_received(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """anymail's `tracking` signal (connected in campaigns.apps)."""
    service_event_record(service=_service_key(esp_name), event=event)


def _service_key(esp_name: str) -> str:
    """anymail's esp_name ("Amazon SES", "Mailgun") as the setting spells it."""
    return esp_name.strip().lower().replace(" ", "_")
