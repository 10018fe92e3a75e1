"""Survey answer tokens: (invitation id, score) signed with the site's secret key.

Each of the eleven links in a survey email carries one. HMAC-SHA256 with a salt of our own
makes them impossible to make up for another invitation or score; unlike unsubscribe links
they expire (CRM_SURVEY_LINK_MAX_AGE_DAYS): an answer months later says little about the
purchase it was about.
"""
import datetime as dt

from django.conf import settings
from django.core import signing

from .nps import MAX_SCORE, MIN_SCORE

SALT = "feedback.survey.v1"


def survey_token(invite_id: int, score: int) -> str:
    """A URL-safe token for one answer (letters, digits, '-', '_' and ':')."""
    if not MIN_SCORE <= score <= MAX_SCORE:
        raise ValueError(f"score out of range: {score}")
    return signing.TimestampSigner(salt=SALT).sign_object({"i": int(invite_id), "s": score})


def survey_token_max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.CRM_SURVEY_LINK_MAX_AGE_DAYS)


def survey_token_read(token: str) -> tuple[int, int]:
    """(invite id, score); raises signing.SignatureExpired for a closed survey and
    signing.BadSignature (its parent) for a changed, foreign or malformed token."""
    payload = signing.TimestampSigner(salt=SALT).unsign_object(
        token, max_age=survey_token_max_age())
    if (not isinstance(payload, dict) or type(payload.get("i")) is not int
            or type(payload.get("s")) is not int
            or not MIN_SCORE <= payload["s"] <= MAX_SCORE):
        raise signing.BadSignature("Malformed survey token")
    return payload["i"], payload["s"]
