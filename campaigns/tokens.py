"""Unsubscribe tokens: a contact id signed with the site's secret key.

A token is the only thing an unsubscribe link carries, so it must be impossible to make up
for another contact: the HMAC-SHA256 signature (SECRET_KEY, its fallbacks and a salt of our
own) is the unguessable part, and changing one character gives BadSignature. Tokens do not
expire by default: an email read a year later must still unsubscribe. Rotating SECRET_KEY
(keeping the old one in SECRET_KEY_FALLBACKS for a while) is how old links are retired.
"""
from django.core import signing

SALT = "campaigns.unsubscribe.v1"


def unsubscribe_token(contact_id: int) -> str:
    """A URL-safe token for one contact (letters, digits, '-', '_' and ':')."""
    return signing.TimestampSigner(salt=SALT).sign_object({"c": int(contact_id)})


def unsubscribe_token_contact_id(token: str, *, max_age: float | None = None) -> int:
    """The contact id in a token; raises signing.BadSignature (or SignatureExpired, a subclass)
    when it was tampered with, made with another key or salt, or is older than max_age seconds."""
    payload = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=max_age)
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), int):
        raise signing.BadSignature("Malformed unsubscribe token")
    return payload["c"]
