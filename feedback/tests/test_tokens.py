"""Survey tokens: round trip, tampering, foreign salt, expiry."""
import datetime as dt
from unittest import mock

import pytest
from django.core import signing

from feedback.tokens import survey_token, survey_token_read


def test_token_round_trips_invite_and_score():
    assert survey_token_read(survey_token(42, 7)) == (42, 7)


def test_tokens_differ_per_score_and_invite():
    assert len({survey_token(1, 0), survey_token(1, 10), survey_token(2, 0)}) == 3


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
    lambda token: "x" + token,                                        # payload changed
    lambda token: token.split(":")[0],                                # signature dropped
])
def test_tampered_tokens_are_refused(tamper):
    with pytest.raises(signing.BadSignature):
        survey_token_read(tamper(survey_token(1, 9)))


def test_a_token_signed_with_another_salt_is_refused():
    forged = signing.TimestampSigner(salt="campaigns.unsubscribe.v1").sign_object(
        {"i": 1, "s": 10})

    with pytest.raises(signing.BadSignature):
        survey_token_read(forged)


def test_a_signed_but_out_of_range_score_is_refused():
    forged = signing.TimestampSigner(salt="feedback.survey.v1").sign_object({"i": 1, "s": 11})

    with pytest.raises(signing.BadSignature):
        survey_token_read(forged)


def test_token_expires_after_the_max_age(settings):
    settings.CRM_SURVEY_LINK_MAX_AGE_DAYS = 60
    signed_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()
    day = 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=signed_at):
        token = survey_token(1, 5)

    with mock.patch("django.core.signing.time.time", return_value=signed_at + 59 * day):
        assert survey_token_read(token) == (1, 5)
    with mock.patch("django.core.signing.time.time", return_value=signed_at + 61 * day), \
            pytest.raises(signing.SignatureExpired):
        survey_token_read(token)


def test_score_outside_the_scale_cannot_be_signed():
    with pytest.raises(ValueError):
        survey_token(1, 11)
