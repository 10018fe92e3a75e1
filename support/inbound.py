"""Inbound email: a customer's message (or a reply to one of our emails) becomes a case.

Wire it to the mail server when inbound email is configured, e.g. a Postfix alias
`support: "|/srv/crm/deploy/crm-manage receive_email"`: the message arrives on standard input.
"""
import email
import email.policy
from email.utils import parseaddr

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.normalise import normalise_email
from customers.services.contacts import contact_get_or_create

from .models import Case
from .services import case_open

MAX_BODY = 10_000


def _text_body(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    return part.get_content()[:MAX_BODY]


def case_from_email(raw: bytes) -> Case:
    """Open a case from a raw RFC 5322 message; ValidationError if it has no usable sender."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    name, address = parseaddr(str(message.get("From", "")))
    try:
        address = normalise_email(address)
    except ValidationError:
        raise ValidationError(_("The message has no valid sender address.")) from None
    first, _space, last = name.strip().partition(" ")
    contact = contact_get_or_create(email=address, first_name=first, last_name=last)
    subject = " ".join(str(message.get("Subject", "")).split())[:200] or _("(no subject)")
    return case_open(contact=contact, subject=subject, description=_text_body(message),
                     channel=Case.Channel.EMAIL, owner=contact.owner)
