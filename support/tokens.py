"""Confirmation links for cases sent through the public form: (case id, address) signed with
the site's secret key, as survey links are (feedback.tokens).

The link goes to the address typed into the form; following it shows that the owner of that
address wrote the case. The token names the case and carries a keyed digest of the address it
was sent to (not the address itself: URLs end up in logs), so if staff change the contact's
email afterwards, the old link no longer confirms anything. It expires after
CONFIRM_MAX_AGE: a confirmation weeks later says little about who wrote the message.
"""
import datetime as dt

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "support.case-confirm.v1"
CONFIRM_MAX_AGE = dt.timedelta(days=7)


def address_digest(email: str) -> str:
    return salted_hmac(SALT, email.strip().lower(), algorithm="sha256").hexdigest()[:24]


def case_confirm_token(case_id: int, email: str) -> str:
    """A URL-safe token (letters, digits, '-', '_' and ':')."""
    return signing.TimestampSigner(salt=SALT).sign_object(
        {"c": int(case_id), "a": address_digest(email)})


def case_confirm_token_read(token: str) -> tuple[int, str]:
    """(case id, address digest); raises signing.SignatureExpired for an old link and
    signing.BadSignature (its parent) for a changed, foreign or malformed one."""
    payload = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=CONFIRM_MAX_AGE)
    if (not isinstance(payload, dict) or type(payload.get("c")) is not int
            or not isinstance(payload.get("a"), str)):
        raise signing.BadSignature("Malformed case confirmation token")
    return payload["c"], payload["a"]


def address_matches(digest: str, email: str) -> bool:
    return constant_time_compare(digest, address_digest(email))
