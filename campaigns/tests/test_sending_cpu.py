"""The sending path's shortcuts (less CPU per email, #21 point 6) give what the long way gave:
one statement per email's result, the same URLs as reverse(), the same From, the same
signature as dkimpy parsing its key every time."""
import time

import dkim
import pytest
from dkim.crypto import parse_pem_private_key
from django.core.mail import get_connection
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import timezone

from campaigns import dkim as campaigns_dkim
from campaigns.clicks import token_path
from campaigns.models import Message
from campaigns.outbox.claim import claim_batch
from campaigns.outbox.record import record_and_mark
from campaigns.rendering import build_email
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.test_dkim import DOMAIN, KEY_FILE, SELECTOR, dkim_on  # noqa: F401 - fixture
from campaigns.tokens import unsubscribe_token
from crm.shop import shop, shop_cache_clear

Status = Message.Status


@pytest.mark.django_db
def test_recording_a_result_and_marking_the_next_row_is_one_statement():
    run = CampaignRunFactory()
    first, second = MessageFactory(run=run), MessageFactory(run=run)
    ids, claimed_at = claim_batch(run_id=run.pk, limit=10)
    assert sorted(ids) == sorted([first.pk, second.pk])
    first.refresh_from_db()
    fields = {"status": Status.SENT, "sent_at": timezone.now(), "to_email": "a@example.com",
              "last_error": ""}

    with CaptureQueriesContext(connection) as queries:
        assert record_and_mark(first, fields, second, claimed_at) == (True, True)

    # No savepoint or transaction statements around it: one round trip per email.
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["UPDATE"]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.to_email) == (Status.SENT, "a@example.com")
    assert second.status == Status.SENDING and second.sent_at is not None


@pytest.mark.parametrize("name", ["campaigns:click", "campaigns:open", "campaigns:unsubscribe"])
@pytest.mark.parametrize("token", [
    "eyJjIjo0Mn0:1xaToF:Ffdux5vQuV5_U1czpG1oLjbzHMUgEjw_VQI-BeKs730",  # unsubscribe
    ".eJyrVspVsjI0MjYyNDQ2MjAwMDIzNTU3MDI3MjQ:1xaToF:Ffdux5vQuV5_U1czpG1oLjbzHMUgEjw",  # click
    "with space", "ünïcode", "a%2Fb", "semi;colon", "0crmtoken0"])
def test_token_paths_are_what_reverse_gives(name, token):
    assert token_path(name, token) == reverse(name, args=[token])


def test_token_paths_follow_the_script_prefix():
    token = unsubscribe_token(42)
    try:
        set_script_prefix("/crm/")
        assert token_path("campaigns:click", token) == reverse("campaigns:click", args=[token])
        assert token_path("campaigns:click", token).startswith("/crm/")
    finally:
        clear_script_prefix()
    assert token_path("campaigns:click", token) == reverse("campaigns:click", args=[token])


@pytest.mark.django_db
def test_the_from_address_follows_the_shop_settings(settings):
    message = MessageFactory()
    settings.DEFAULT_FROM_EMAIL = "Dükkân <shop@example.com>"
    shop_cache_clear()
    assert build_email(message, get_connection()).from_email == shop().from_email
    settings.DEFAULT_FROM_EMAIL = "Other Shop <news@example.com>"
    shop_cache_clear()
    assert build_email(message, get_connection()).from_email == "Other Shop <news@example.com>"
    shop_cache_clear()


def test_signing_with_the_parsed_key_cached_gives_dkimpys_signature(dkim_on, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000)
    data = (b"From: Shop <news@shop.example>\r\nTo: a@example.com\r\nSubject: Hi\r\n"
            b"Message-ID: <x@shop.example>\r\n\r\nHello\r\n")
    with monkeypatch.context() as shipped:  # dkimpy as shipped: it parses the key every time
        shipped.setattr(dkim, "parse_pem_private_key", parse_pem_private_key)
        expected = dkim.sign(data, SELECTOR.encode(), DOMAIN.encode(), KEY_FILE.read_bytes(),
                             canonicalize=campaigns_dkim.CANONICALIZE,
                             include_headers=list(campaigns_dkim.SIGNED_HEADERS),
                             linesep=b"\r\n") + data

    assert dkim_on.sign(data) == expected
    assert dkim_on.sign(data) == expected  # the second time from the cached key
    assert campaigns_dkim._pem_private_key.cache_info().hits >= 1
