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


# --- Reply addresses: a staff reply's answers come back into the same case ------------------
# A staff reply is emailed with Reply-To <local>+<token>@<domain>; the token is the case id and
# a keyed digest of it, lower-case hex only, so it survives mail servers that fold the case of
# addresses and needs no quoting in an address. It does not expire: customers answer months
# later. A token whose digest does not match opens a new case (support.inbound), never
# attaches to the case it names.
REPLY_SALT = "support.case-reply.v1"
_REPLY_DIGEST_LENGTH = 20


def _reply_digest(case_id: int) -> str:
    return salted_hmac(REPLY_SALT, str(int(case_id)),
                       algorithm="sha256").hexdigest()[:_REPLY_DIGEST_LENGTH]


def case_reply_token(case_id: int) -> str:
    return f"case{int(case_id)}-{_reply_digest(case_id)}"


def case_reply_token_read(token: str) -> int | None:
    """The case id of a genuine token; None for a changed, foreign or malformed one."""
    prefix, _dash, digest = token.strip().lower().partition("-")
    if not prefix.startswith("case") or not prefix[4:].isdigit() or len(prefix) > 24:
        return None
    case_id = int(prefix[4:])
    return case_id if constant_time_compare(digest, _reply_digest(case_id)) else None


def case_reply_address(case_id: int, base: str) -> str:
    """`base` (support@shop.example) with the case's token as its plus part."""
    local, _at, domain = base.rpartition("@")
    return f"{local}+{case_reply_token(case_id)}@{domain}"


def reply_tokens_in(addresses) -> list[str]:
    """The plus parts of addresses that look like reply addresses ("+case<id>-..."), genuine
    or not: a forged one must be recognised as an attempt, not ignored."""
    tokens = []
    for address in addresses:
        local = address.rpartition("@")[0]
        plus = local.partition("+")[2]
        if plus.lower().startswith("case"):
            tokens.append(plus)
    return tokens
