"""Inbound email: a customer's message becomes a case, and an answer to one of our replies goes
back into the case it answers.

Wire it to the mail server when inbound email is configured, e.g. a Postfix alias
`support: "|/srv/crm/deploy/crm-manage receive_email"` with `recipient_delimiter = +` (so the
reply addresses support+case<id>-<digest>@... reach the same alias): the message arrives on
standard input.

Which case an answer belongs to is decided by what we signed or sent, never by its From:
anyone can write any From, so the sender address only names the contact of a *new* case and
is shown beside an answer, flagged when it is not the contact's.
1. A reply address (support.tokens) among To/Cc/Delivered-To/X-Original-To: a genuine one
   names the case; a forged or changed one opens a new case (it never attaches anywhere).
2. Otherwise In-Reply-To/References naming the Message-ID of a reply we sent.
3. Otherwise a new case.
"""
import email
import email.policy
import re
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.normalise import normalise_email
from customers.services.contacts import contact_get_or_create

from .models import Case
from .selectors import case_answered_by, case_by_id
from .services import case_message_receive, case_open, case_owner_pick
from .tokens import case_reply_token_read, reply_tokens_in

MAX_BODY = 10_000
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,248}>")


@dataclass(frozen=True)
class Received:
    case: Case
    threaded: bool  # True: an answer added to an existing case; False: a new case


def _text_body(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    return part.get_content()[:MAX_BODY]


def _header(message, name: str) -> str:
    try:
        return str(message.get(name, "") or "")
    except (ValueError, TypeError, IndexError):  # a header the parser cannot make sense of
        return ""


def _recipients(message) -> list[str]:
    values = []
    for name in RECIPIENT_HEADERS:
        for value in message.get_all(name, []) or []:
            values.append(str(value))
    return [address for _name, address in getaddresses(values) if address]


def _threaded_case(message) -> Case | None:
    tokens = reply_tokens_in(_recipients(message))
    if tokens:
        case_ids = {case_reply_token_read(token) for token in tokens}
        if None in case_ids or len(case_ids) != 1:
            return None  # forged, changed or contradictory: a new case, never someone else's
        return case_by_id(case_ids.pop())
    referenced = _MESSAGE_ID.findall(_header(message, "In-Reply-To") + " "
                                     + _header(message, "References"))
    return case_answered_by(referenced) if referenced else None


def _automatic(message) -> bool:
    """An out-of-office or other machine answer (RFC 3834)."""
    return _header(message, "Auto-Submitted").strip().lower() not in ("", "no")


def email_receive(raw: bytes) -> Received:
    """Thread or open a case from a raw RFC 5322 message; ValidationError if it has no usable
    sender."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    name, address = parseaddr(_header(message, "From"))
    try:
        address = normalise_email(address)
    except ValidationError:
        raise ValidationError(_("The message has no valid sender address.")) from None
    message_id = " ".join(_MESSAGE_ID.findall(_header(message, "Message-ID"))[:1])
    case = _threaded_case(message)
    if case is not None:
        case_message_receive(case=case, body=_text_body(message), from_address=address,
                             message_id=message_id, automatic=_automatic(message))
        return Received(case=case, threaded=True)
    first, _space, last = name.strip().partition(" ")
    contact = contact_get_or_create(email=address, first_name=first, last_name=last)
    subject = " ".join(_header(message, "Subject").split())[:200] or _("(no subject)")
    case = case_open(contact=contact, subject=subject, description=_text_body(message),
                     channel=Case.Channel.EMAIL, owner=case_owner_pick(contact=contact),
                     message_id=message_id)
    return Received(case=case, threaded=False)


def case_from_email(raw: bytes) -> Case:
    """The case a raw message opened or was added to (email_receive)."""
    return email_receive(raw).case
