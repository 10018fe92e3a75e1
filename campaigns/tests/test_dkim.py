"""DKIM signing (campaigns.dkim): every campaign email sent through a real SMTP server carries
a signature that dkimpy verifies against the published public key, covering the one-click
unsubscribe headers; a key that does not parse is a system check error and sends nothing."""
import datetime as dt
import logging
from pathlib import Path

import dkim
import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from campaigns import dkim as campaigns_dkim
from campaigns.models import Message
from campaigns.outbox import send_due_messages
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
Status = Message.Status

KEY_FILE = Path(__file__).with_name("dkim_test_key.pem")  # a test-only key, 2048 bits
DOMAIN, SELECTOR = "shop.example", "crm2026"


@pytest.fixture
def dkim_on(settings):
    settings.CRM_DKIM_DOMAIN, settings.CRM_DKIM_SELECTOR = DOMAIN, SELECTOR
    settings.CRM_DKIM_PRIVATE_KEY_FILE = str(KEY_FILE)
    settings.CRM_DKIM_PRIVATE_KEY = ""
    settings.DEFAULT_FROM_EMAIL = f"Shop <news@{DOMAIN}>"
    return campaigns_dkim.signer()


def dns_for(record: str):
    """dkimpy's dnsfunc: the selector's TXT record, no network."""
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        if name.decode().rstrip(".") == f"{SELECTOR}._domainkey.{DOMAIN}":
            return record.encode()
        return None
    return lookup


def test_a_sent_campaign_email_carries_a_signature_that_verifies(smtp_sink, dkim_on):
    message = MessageFactory()

    report = send_due_messages()

    assert report.sent == 1
    [received] = smtp_sink.received
    assert received.raw.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert received.message_id == message.message_id
    assert dkim.verify(received.raw, dnsfunc=dns_for(dkim_on.dns_record()))


def test_the_one_click_unsubscribe_headers_are_signed(smtp_sink, dkim_on):
    MessageFactory()

    send_due_messages()

    [received] = smtp_sink.received
    signature = received.message["DKIM-Signature"]
    tags = dict(part.strip().split("=", 1) for part in str(signature).split(";") if "=" in part)
    signed = {name.strip() for name in "".join(tags["h"].split()).split(":")}
    assert {"from", "to", "subject", "date", "message-id", "list-unsubscribe",
            "list-unsubscribe-post"} <= signed
    assert tags["d"] == DOMAIN and tags["s"] == SELECTOR
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/email/unsubscribe/" in received.message["List-Unsubscribe"]


def test_a_tampered_body_or_unsubscribe_header_fails_verification(smtp_sink, dkim_on):
    MessageFactory()
    send_due_messages()
    raw = smtp_sink.received[0].raw
    lookup = dns_for(dkim_on.dns_record())

    body_changed = raw.replace(b"Hello", b"Hellp", 1)
    header_changed = raw.replace(b"/email/unsubscribe/", b"/email/unsubscribx/", 1)

    assert body_changed != raw and header_changed != raw
    assert not dkim.verify(body_changed, dnsfunc=lookup)
    assert not dkim.verify(header_changed, dnsfunc=lookup)


def test_a_different_published_key_fails_verification(smtp_sink, dkim_on):
    MessageFactory()
    send_due_messages()
    # The same key's record with its modulus changed: another key.
    record = dkim_on.dns_record()
    wrong = record[:60] + ("B" if record[60] != "B" else "C") + record[61:]

    assert not dkim.verify(smtp_sink.received[0].raw, dnsfunc=dns_for(wrong))


def test_the_inline_key_with_written_out_newlines_signs_too(smtp_sink, dkim_on, settings):
    settings.CRM_DKIM_PRIVATE_KEY_FILE = ""
    settings.CRM_DKIM_PRIVATE_KEY = KEY_FILE.read_text().replace("\n", "\\n")
    MessageFactory()

    send_due_messages()

    assert dkim.verify(smtp_sink.received[0].raw, dnsfunc=dns_for(dkim_on.dns_record()))


def test_a_reconnect_sends_the_same_signed_bytes_once(smtp_sink, dkim_on, monkeypatch):
    """Signing happens once per email: the reconnect-and-retry after a dropped connection
    sends the same bytes, and the row's Message-ID is the recorded one."""
    from campaigns import smtp

    run = CampaignRunFactory()
    messages = [MessageFactory(run=run) for _ in range(2)]
    signed = []
    real_sign = campaigns_dkim.Signer.sign
    monkeypatch.setattr(campaigns_dkim.Signer, "sign",
                        lambda self, data: signed.append(data) or real_sign(self, data))
    real_send, calls = smtp.Outbound._send_smtp, []

    def flaky(self, email, data):
        calls.append(data)
        if len(calls) == 2:  # the second email's first try: the server dropped us
            self.close()
            raise smtp.ConnectionLost("connection dropped")
        return real_send(self, email, data)

    monkeypatch.setattr(smtp.Outbound, "_send_smtp", flaky)

    send_due_messages(run_id=run.pk)

    assert len(signed) == 2 and calls[1] == calls[2]
    assert smtp_sink.message_ids() == {m.message_id: 1 for m in messages}
    for received in smtp_sink.received:
        assert dkim.verify(received.raw, dnsfunc=dns_for(dkim_on.dns_record()))


def test_the_dns_record_is_the_public_half_of_the_key(dkim_on):
    record = dkim_on.dns_record()
    from base64 import b64decode

    from dkim.crypto import parse_public_key

    public = parse_public_key(b64decode(record.split("p=")[1]))

    assert record.startswith("v=DKIM1; k=rsa; p=")
    assert (public["modulus"], public["publicExponent"]) == dkim_on.public_key()
    assert dkim_on.record_name == f"{SELECTOR}._domainkey.{DOMAIN}"


# --- A key that does not parse -----------------------------------------------------------------

BAD_KEYS = [
    "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n",
    "not a key at all",
    "",  # DKIM half configured: domain and selector, no key
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_a_key_that_does_not_parse_is_a_system_check_error(settings, key):
    settings.CRM_DKIM_DOMAIN, settings.CRM_DKIM_SELECTOR = DOMAIN, SELECTOR
    settings.CRM_DKIM_PRIVATE_KEY, settings.CRM_DKIM_PRIVATE_KEY_FILE = key, ""

    [error] = campaigns_dkim.check_dkim_key()

    assert error.id == "campaigns.E001"
    assert "DKIM signing is configured but unusable" in error.msg
    with pytest.raises(SystemCheckError, match="campaigns.E001"):
        call_command("check")


def test_a_missing_key_file_is_a_system_check_error(settings, tmp_path):
    settings.CRM_DKIM_DOMAIN, settings.CRM_DKIM_SELECTOR = DOMAIN, SELECTOR
    settings.CRM_DKIM_PRIVATE_KEY, settings.CRM_DKIM_PRIVATE_KEY_FILE = "", str(tmp_path / "no")

    [error] = campaigns_dkim.check_dkim_key()

    assert "cannot read CRM_DKIM_PRIVATE_KEY_FILE" in error.msg


def test_no_dkim_settings_no_check_error_and_unsigned_email(smtp_sink, settings):
    MessageFactory()

    send_due_messages()

    assert campaigns_dkim.check_dkim_key() == []
    assert not smtp_sink.received[0].raw.startswith(b"DKIM-Signature")


def test_a_broken_key_sends_nothing_unsigned_and_keeps_the_rows_queued(smtp_sink, settings,
                                                                       caplog):
    settings.CRM_DKIM_DOMAIN, settings.CRM_DKIM_SELECTOR = DOMAIN, SELECTOR
    settings.CRM_DKIM_PRIVATE_KEY, settings.CRM_DKIM_PRIVATE_KEY_FILE = BAD_KEYS[0], ""
    run = CampaignRunFactory()
    messages = [MessageFactory(run=run) for _ in range(3)]

    with caplog.at_level(logging.ERROR, logger="campaigns.outbox.batch"):
        report = send_due_messages(run_id=run.pk)

    assert smtp_sink.received == []
    assert (report.claimed, report.sent, report.deferred) == (3, 0, 3)
    assert "DKIM signing is configured but unusable" in caplog.text
    for message in messages:
        message.refresh_from_db()
        assert (message.status, message.attempts, message.sent_at) == (Status.QUEUED, 0, None)
        assert message.not_before > timezone.now()

    # Fixed (and the workers restarted with the key): the same rows go out, signed, once.
    settings.CRM_DKIM_PRIVATE_KEY, settings.CRM_DKIM_PRIVATE_KEY_FILE = "", str(KEY_FILE)
    Message.objects.filter(run=run).update(not_before=timezone.now() - dt.timedelta(seconds=1))
    send_due_messages(run_id=run.pk)

    assert smtp_sink.message_ids() == {m.message_id: 1 for m in messages}
    assert all(r.raw.startswith(b"DKIM-Signature") for r in smtp_sink.received)


# --- The RSA step through OpenSSL ----------------------------------------------------------------

def test_openssl_signs_the_same_bytes_as_dkimpys_own_arithmetic():
    import hashlib

    from dkim import crypto
    private = crypto.parse_pem_private_key(KEY_FILE.read_bytes())
    for text in (b"", b"a DKIM header hash input", "Merhaba Ayşe".encode() * 50):
        digest = hashlib.sha256(text)
        assert campaigns_dkim._rsa_sign_openssl(digest, private) \
            == crypto.RSASSA_PKCS1_v1_5_sign(hashlib.sha256(text), private)
    assert dkim.RSASSA_PKCS1_v1_5_sign is campaigns_dkim._rsa_sign_openssl


def test_a_key_with_a_broken_crt_part_is_a_system_check_error(settings, tmp_path):
    """A PEM that parses but whose primes do not make its modulus: OpenSSL refuses to sign
    with it, which stops sending at start-up rather than per email."""
    import base64

    from dkim import crypto
    private = crypto.parse_pem_private_key(KEY_FILE.read_bytes())
    broken = dict(private, exponent1=private["exponent1"] + 2)
    fields = ("version", "modulus", "publicExponent", "privateExponent", "prime1", "prime2",
              "exponent1", "exponent2", "coefficient")
    der = _der(0x30, b"".join(_der(0x02, broken[name].to_bytes(broken[name].bit_length() // 8 + 1,
                                                                 "big")) for name in fields))
    pem = (b"-----BEGIN RSA PRIVATE KEY-----\n" + base64.encodebytes(der)
           + b"-----END RSA PRIVATE KEY-----\n")
    path = tmp_path / "broken.pem"
    path.write_bytes(pem)
    settings.CRM_DKIM_DOMAIN, settings.CRM_DKIM_SELECTOR = DOMAIN, SELECTOR
    settings.CRM_DKIM_PRIVATE_KEY, settings.CRM_DKIM_PRIVATE_KEY_FILE = "", str(path)

    [error] = campaigns_dkim.check_dkim_key()

    assert error.id == "campaigns.E001"
    assert "cannot sign" in error.msg


def _der(tag: int, content: bytes) -> bytes:
    """One DER element (PKCS #1's RSAPrivateKey is a SEQUENCE of INTEGERs)."""
    size = len(content)
    if size < 128:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content
