"""Reports that arrive by email after sending: bounces (delivery status notifications, RFC
3464) and spam complaints (feedback reports from mailbox providers, ARF, RFC 5965).

A receiving server may accept an email (250) and only later find it cannot deliver it; it
then mails a report to the envelope sender. Such a report names our Message-ID (in the
returned message or its headers) and, per recipient, an Action and a Status: "failed" with a
5.x.x status is a permanent bounce, like a 5xx reply during sending: the row becomes BOUNCED
and the address is suppressed. Delays (4.x.x, "delayed") change nothing.

A complaint ("this is spam", Feedback-Type: abuse) about one of our emails withdraws the
contact's marketing consent (a ledger record) and suppresses the address as complained.

Only reports about a Message-ID we sent are acted on: our ids are random, so a forged report
cannot suppress an address at will.
"""
import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Message, Suppression
from .rendering import angled_message_id
from .suppression import address_suppress, message_complained

MAX_DIAGNOSTIC = 2000


@dataclass(frozen=True)
class BounceReport:
    """What a delivery report said and did."""
    message_ids: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()  # recipients permanently refused
    bounced: int = 0  # our outbox rows marked BOUNCED by it
    suppressed: tuple[str, ...] = ()
    complaint: bool = False

    def describe(self) -> str:
        if not self.message_ids:
            return _("Not a report about one of our emails: nothing changed.")
        if not self.suppressed:
            return _("A report without a permanent failure or a spam complaint (a delay, or "
                     "not about our recipient): nothing changed.")
        if self.complaint:
            return _("Spam complaint recorded for %(addresses)s: consent withdrawn, never "
                     "emailed again.") % {"addresses": ", ".join(self.suppressed)}
        return _("Bounce recorded for %(addresses)s.") % {
            "addresses": ", ".join(self.suppressed)}


def _report_type(message: EmailMessage) -> str:
    if message.get_content_type() != "multipart/report":
        return ""
    return str(message.get_param("report-type", "")).lower()


def is_delivery_report(message: EmailMessage) -> bool:
    return _report_type(message) == "delivery-status"


def is_feedback_report(message: EmailMessage) -> bool:
    return _report_type(message) == "feedback-report"


def is_report(message: EmailMessage) -> bool:
    """A bounce or a complaint: never a customer writing to support."""
    return is_delivery_report(message) or is_feedback_report(message)


def parse(raw: bytes | EmailMessage) -> EmailMessage:
    """The report as a message; one already parsed is used as it is (parsed once per call)."""
    if isinstance(raw, EmailMessage):
        return raw
    return email.message_from_bytes(raw, policy=email.policy.default)


def _recipient_fields(message: EmailMessage) -> list[dict[str, str]]:
    """The per-recipient field groups of the message/delivery-status part."""
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        groups = part.get_payload()  # the per-message group, then one per recipient
        if not isinstance(groups, list):
            return []
        return [{key.lower(): " ".join(str(value).split()) for key, value in group.items()}
                for group in groups[1:]]
    return []


def _returned_message_ids(message: EmailMessage) -> tuple[str, ...]:
    ids = []
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            returned = part.get_payload()
            returned = returned[0] if isinstance(returned, list) else returned
            ids.append(returned.get("Message-ID", ""))
        elif part.get_content_type() == "text/rfc822-headers":
            ids.append(parse(part.get_content().encode()).get("Message-ID", ""))
    return tuple(angled_message_id(str(value)) for value in ids if value and str(value).strip())


def _address(field: str) -> str:
    """'rfc822; Ann@Example.com' -> 'ann@example.com'."""
    return field.partition(";")[2].strip().strip("<>").lower() if ";" in field else (
        field.strip().strip("<>").lower())


def _permanent_failures(groups: list[dict[str, str]]) -> dict[str, str]:
    """{recipient: diagnostic} for recipients the report says failed for good."""
    failed = {}
    for group in groups:
        recipient = _address(group.get("final-recipient") or group.get("original-recipient", ""))
        if (recipient and group.get("action", "").lower() == "failed"
                and group.get("status", "").startswith("5")):
            failed[recipient] = (group.get("diagnostic-code") or group["status"])[:MAX_DIAGNOSTIC]
    return failed


@transaction.atomic
def bounce_record(raw: bytes | EmailMessage) -> BounceReport:
    """Act on one delivery report (raw RFC 5322 bytes); a report about nothing we sent, or
    only about delays, changes nothing."""
    message = parse(raw)
    if not is_delivery_report(message):
        return BounceReport()
    ids = _returned_message_ids(message)
    failed = _permanent_failures(_recipient_fields(message))
    ours = list(Message.objects.select_for_update(of=("self",)).filter(message_id__in=ids)
                .select_related("contact"))
    bounced, suppressed = rows_bounced(ours, failed)
    return BounceReport(message_ids=ids, failed=tuple(failed), bounced=bounced,
                        suppressed=tuple(suppressed))


def rows_bounced(rows: list[Message], failed: dict[str, str]) -> tuple[int, list[str]]:
    """Our rows whose recipient failed for good ({address: diagnostic}) become BOUNCED (when
    sent or unknown) and the address is suppressed: a delivery report's or an email
    service's bounce (campaigns.email_services). Rows locked by the caller. Returns (rows
    marked BOUNCED, addresses suppressed)."""
    bounced, suppressed = 0, []
    for row in rows:
        address = (row.to_email or row.contact.email).lower()
        if address not in failed:
            continue
        if row.status in (Message.Status.SENT, Message.Status.UNKNOWN):
            row.status, row.last_error = Message.Status.BOUNCED, failed[address]
            row.save(update_fields=["status", "last_error"])
            bounced += 1
        address_suppress(email=address, reason=Suppression.Reason.BOUNCED,
                         detail=failed[address])
        suppressed.append(address)
    return bounced, suppressed


@transaction.atomic
def complaint_record(raw: bytes | EmailMessage) -> BounceReport:
    """Act on one feedback report: an abuse complaint about an email we sent to a contact
    withdraws their consent and suppresses the address."""
    message = parse(raw)
    if not is_feedback_report(message):
        return BounceReport()
    ids = _returned_message_ids(message)
    if _feedback_type(message) != "abuse":
        return BounceReport(message_ids=ids)
    suppressed = [row_complained(row) for row in
                  Message.objects.filter(message_id__in=ids).select_related("contact")]
    return BounceReport(message_ids=ids, failed=tuple(suppressed),
                        suppressed=tuple(suppressed), complaint=True)


def row_complained(row: Message, source: str = "spam complaint") -> str:
    """A spam complaint about our row (a feedback report's or an email service's): the
    address is suppressed as complained and, when it is still the contact's, their consent
    is withdrawn (a ledger record). Returns the address."""
    # customers builds on campaigns' models
    from customers.consent.models import ConsentMethod
    from customers.services.contacts import contact_set_consent

    address = (row.to_email or row.contact.email).lower()
    message_complained(row, now=timezone.now())
    address_suppress(email=address, reason=Suppression.Reason.COMPLAINED,
                     detail=_("Spam complaint about %(id)s") % {"id": row.message_id})
    if row.contact.email.lower() == address and row.contact.marketing_consent:
        contact_set_consent(contact=row.contact, consent=False, source=source,
                            method=ConsentMethod.SPAM_COMPLAINT)
    return address


def report_record(raw: bytes | EmailMessage) -> BounceReport:
    """A bounce or a complaint, whichever the report is."""
    message = parse(raw)
    return complaint_record(message) if is_feedback_report(message) else bounce_record(message)


def _feedback_type(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            fields = (payload[0] if isinstance(payload, list) and payload
                      else email.message_from_string(str(payload).lstrip()))
            return str(fields.get("Feedback-Type", "")).strip().lower()
    return ""
