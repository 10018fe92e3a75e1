"""Inbound email: a customer's message becomes a case, and an answer to one of our replies goes
back into the case it answers.

Wire it to the mail server when inbound email is configured, e.g. a Postfix alias
`support: "|/srv/crm/deploy/crm-manage receive_email"` with `recipient_delimiter = +` (so the
reply addresses support+case<id>-<digest>@... reach the same alias): the message arrives on
standard input.

Which case an answer belongs to is decided by what we signed or sent, never by its From:
anyone can write any From, so the sender address only names the contact of a *new* case and
is shown beside an answer, flagged when it is not the contact's. A new case is the address
owner's only when our own mail server vouched for its From (sender_authenticated); otherwise
it opens unconfirmed and the owner gets a confirmation link, as from the public form.
1. A reply address (support.tokens) among To/Cc/Delivered-To/X-Original-To: a genuine one
   names the case; a forged or changed one opens a new case (it never attaches anywhere).
2. Otherwise In-Reply-To/References naming the Message-ID of a reply we sent.
3. Otherwise a new case.
"""
import email
import email.policy
import logging
import re
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr

import authres
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.normalise import normalise_email
from customers.services.contacts import contact_get_or_create

from .models import Case
from .selectors import case_answered_by, case_by_id
from .services import case_confirmation_queue, case_message_receive, case_open, case_owner_pick
from .tokens import case_reply_token_read, reply_tokens_in

logger = logging.getLogger(__name__)

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


def _aligned(domain: str, from_domain: str) -> bool:
    """The authenticated domain is the From domain or a parent of it (relaxed alignment)."""
    domain, from_domain = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    return bool(domain) and (from_domain == domain or from_domain.endswith("." + domain))


def sender_authenticated(message, address: str) -> bool:
    """Whether our own mail server vouched for the From `address`: an Authentication-Results
    header (RFC 8601) with its authserv-id (CRM_INBOUND_AUTHSERV_ID; a sender can write such
    a header too, under any other name) saying dmarc=pass for the From domain, or dkim=pass
    signed by that domain or a parent of it. SPF alone is not enough: it vouches for the
    envelope sender, not the From a person reads."""
    server = settings.CRM_INBOUND_AUTHSERV_ID.strip().lower()
    if not server:
        return False
    from_domain = address.rpartition("@")[2]
    for value in message.get_all("Authentication-Results", []) or []:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(" ".join(str(value).split()))
        except Exception:  # noqa: BLE001 - a header the library cannot read vouches for nothing
            logger.info("Unreadable Authentication-Results header ignored")
            continue
        if (header.authserv_id or "").lower() != server:
            continue
        for result in header.results:
            if result.result.lower() != "pass":
                continue
            named = {(prop.type, prop.name): str(prop.value) for prop in result.properties}
            if result.method == "dmarc" and _aligned(named.get(("header", "from"), ""),
                                                     from_domain):
                return True
            if result.method == "dkim" and _aligned(named.get(("header", "d"), ""),
                                                    from_domain):
                return True
    return False


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
    verified = sender_authenticated(message, address)
    case = case_open(contact=contact, subject=subject, description=_text_body(message),
                     channel=Case.Channel.EMAIL, owner=case_owner_pick(contact=contact),
                     message_id=message_id, verified=verified)
    if not verified:
        case_confirmation_queue(case)
    return Received(case=case, threaded=False)


def case_from_email(raw: bytes) -> Case:
    """The case a raw message opened or was added to (email_receive)."""
    return email_receive(raw).case
