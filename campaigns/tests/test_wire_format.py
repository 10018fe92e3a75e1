"""The sender writes emails to the wire with its own, faster header folding
(campaigns.smtp.wire_bytes): the bytes must be exactly what Django's own serialisation
gives, for every kind of header a campaign email has."""
import random
import smtplib
import uuid
from email.policy import Compat32

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection

from django.core.mail import BadHeaderError, message
from django.core.mail.message import sanitize_address

from campaigns.smtp import (
    _WIRE_POLICY,
    _direct_bytes,
    _fold,
    _header,
    _multipart_headers,
    _recipient_address,
    _smtp_quoted,
    _smtp_quoted_sender,
    mime_bytes,
    wire_bytes,
)

LONG_URL = "https://crm.example.com/email/unsubscribe/" + "a1B2-c3_" * 30 + "/"
SUBJECTS = [
    "Thanks for your order",
    "Şükrü, siparişiniz için teşekkürler: %10 indirim kodunuz içeride",  # encoded words
    "A very long English subject line that goes well past the seventy-eight characters "
    "of one header line, so it has to be folded",
    "  leading and trailing spaces  ",
    "tab\tinside",
    "=?utf-8?q?looks_encoded?=",
    "Çok uzun bir Türkçe konu satırı: " + "ğüşıöç " * 20,
]
NAMES = ["Ayşe Yılmaz <ayse@example.com>", "plain@example.com",
         '"Quoted, Name" <q@example.com>', "Çağrı <cagri@örnek.com.tr>"]


def make_email(subject: str, to: str, html: bool) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=subject, body="Merhaba,\n\nTeşekkürler.\n" + "x" * 1200,
        from_email="Dükkân <shop@example.com>", to=[to], connection=get_connection(),
        headers={"Message-ID": "<abc.123@crm.example.com>",
                 "List-Unsubscribe": f"<{LONG_URL}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                 "Content-Language": "tr"})
    if html:
        email.attach_alternative("<p>Merhaba <b>Ayşe</b></p>" + "<p>y</p>" * 300, "text/html")
    return email


@pytest.mark.parametrize("html", [False, True])
@pytest.mark.parametrize("to", NAMES)
@pytest.mark.parametrize("subject", SUBJECTS)
def test_wire_bytes_are_djangos_bytes(subject, to, html):
    mime = make_email(subject, to, html).message()

    assert wire_bytes(mime) == mime.as_bytes(linesep="\r\n")


def test_each_multipart_email_gets_its_own_random_boundary():
    first = mime_bytes(make_email("Hi", "a@example.com", html=True))
    second = mime_bytes(make_email("Hi", "a@example.com", html=True))

    boundary = first.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    assert boundary.startswith(b"=_crm_") and len(boundary) == len(b"=_crm_") + 32
    assert boundary not in second
    assert first.count(b"--" + boundary) == 3  # two parts and the closing line


@pytest.mark.parametrize("address", [
    "ayse@example.com", "a.b+tag@sub.example.com.tr", "o'brien@example.ie",
    "x@localhost", "çağrı@örnek.com.tr", "ayse@örnek.com", "Ayşe <ayse@example.com>",
    '"a b"@example.com', "a@b@example.com", "user@[127.0.0.1]", "-@a-b.co",
])
def test_recipient_addresses_are_what_djangos_sanitize_address_gives(address):
    try:
        expected = sanitize_address(address, "utf-8")
    except ValueError:
        with pytest.raises(ValueError):
            _recipient_address(address, "utf-8")
    else:
        assert _recipient_address(address, "utf-8") == expected


# --- Campaign emails written directly (campaigns.smtp._direct_bytes) --------------------------

BODIES = [
    "Merhaba Ayşe,\n\nTeşekkürler.\nhttps://crm.example.com/email/c/abc/\n",
    "plain ascii\r\nwith CRLF\rand CR\nand LF",
    "",
    "vertical\x0btab, form\x0cfeed, line\u2028separator and next\x85line\n",
    ".a line starting with a dot\n\n\n",
    "x" * 998 + "\n" + "ş" * 499,  # exactly the longest lines that stay 7bit/8bit
    "From the start of a line\n",
]
HTML_BODIES = [None, "<p>Merhaba <b>Ayşe</b></p>", "<p>ascii</p>\n<p>two</p>\r\n", ""]


def email_for(subject, to, body, html, headers=None):
    email = EmailMultiAlternatives(
        subject=subject, body=body, from_email="Dükkân <shop@example.com>", to=[to],
        connection=get_connection(),
        headers=headers if headers is not None else {
            "Message-ID": "<abc.123@crm.example.com>", "Date": "Mon, 07 Dec 2026 20:00:00 -0000",
            "List-Unsubscribe": f"<{LONG_URL}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "Content-Language": "tr"})
    if html is not None:
        email.attach_alternative(html, "text/html")
    return email


def email_package_bytes(email, boundary: str) -> bytes:
    mime = email.message()
    if mime.is_multipart():
        mime.set_boundary(boundary)
    return mime.as_bytes(linesep="\r\n")


BOUNDARY = "=_crm_0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("html", HTML_BODIES)
@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("to", NAMES)
@pytest.mark.parametrize("subject", SUBJECTS)
def test_direct_bytes_are_djangos_bytes(subject, to, body, html):
    email = email_for(subject, to, body, html)

    direct = _direct_bytes(email, BOUNDARY)

    assert direct is not None  # a campaign email: written directly, not by the email package
    assert direct == email_package_bytes(email, BOUNDARY)


def test_direct_bytes_date_and_message_id_as_django_makes_them(monkeypatch):
    monkeypatch.setattr(message, "formatdate", lambda localtime=False: "Mon, 07 Dec 2026 20:00:00"
                        + (" +0300" if localtime else " -0000"))
    monkeypatch.setattr(message, "make_msgid", lambda domain=None: f"<fixed@{domain}>")
    email = email_for("Hi", "a@example.com", "Hello\n", "<p>Hello</p>", headers={
        "List-Unsubscribe": "<https://crm.example.com/u/x/>"})

    assert _direct_bytes(email, BOUNDARY) == email_package_bytes(email, BOUNDARY)
    assert b"\r\nDate: Mon, 07 Dec 2026 20:00:00 -0000\r\n" in _direct_bytes(email, BOUNDARY)


@pytest.mark.parametrize("change", [
    "long text line", "long html line", "attachment", "cc", "reply_to", "two alternatives",
    "structural header", "latin-1", "lone surrogate", "subclass",
])
def test_other_emails_go_through_the_email_package_unchanged(change):
    body, html = "Hello\n", "<p>Hello</p>"
    if change == "long text line":
        body = "x" * 999
    if change == "long html line":
        html = "<p>" + "ş" * 500 + "</p>"
    if change == "lone surrogate":
        body = "broken \udcff text"
    email = email_for("Hi", "a@example.com", body, html)
    if change == "attachment":
        email.attach("a.txt", "attached", "text/plain")
    elif change == "cc":
        email.cc = ["b@example.com"]
    elif change == "reply_to":
        email.reply_to = ["b@example.com"]
    elif change == "two alternatives":
        email.attach_alternative("<x/>", "application/xml")
    elif change == "structural header":
        email.extra_headers["Content-Transfer-Encoding"] = "8bit"
    elif change == "latin-1":
        email.encoding = "iso-8859-1"
    elif change == "subclass":
        email.__class__ = type("Custom", (EmailMultiAlternatives,), {})

    assert _direct_bytes(email, BOUNDARY) is None
    if change != "lone surrogate":  # the email package refuses it, as before
        assert mime_bytes(email).startswith(b"Content-Type: multipart/")


@pytest.mark.parametrize("address", [
    "ayse@example.com", "a.b+tag@sub.example.com.tr", "o'brien@example.ie", "x@localhost",
    "-@a-b.co", "a..b@example.com", ".a@example.com", "a.@example.com", "{x}|y@example.com",
    "a%b!c@example.com", "a=b?c^d`e~f@example.com", "a#b$c&d*e/f@example.com",
    "CRM <crm@localhost>", "=?utf-8?b?w4dhxJ9yxLE=?= <cagri@xn--rnek-zoa.com.tr>",
    '"a b"@example.com', "user@[127.0.0.1]",
])
def test_smtp_commands_quote_addresses_as_smtplib_does(address):
    assert _smtp_quoted(address) == smtplib.quoteaddr(address)
    assert _smtp_quoted_sender(address) == smtplib.quoteaddr(address)


@pytest.mark.parametrize("name", ["List-Unsubscribe", "X", "Message-ID", "Content-Type",
                                  "An-Unusually-Long-Header-Name-For-A-Header-Yes"])
def test_long_one_token_headers_fold_as_compat32_folds_them(name):
    rng = random.Random(name)
    alphabet = "".join(chr(c) for c in range(0x21, 0x7f))  # with ';' and ',', which fold
    reference = Compat32(linesep="\r\n")
    for length in range(1, 400):
        value = "".join(rng.choice(alphabet) for _ in range(length))
        for candidate in (value, value.replace(";", "x").replace(",", "y"), f"<{value}>"):
            assert _WIRE_POLICY.fold_binary(name, candidate) == reference.fold_binary(
                name, candidate), (name, candidate)


def test_one_line_ascii_headers_skip_djangos_header_check_with_the_same_bytes():
    """_header's shortcut (no email.header.Header for an ASCII Subject of up to 76
    characters, no forbid_multi_line_headers for other one-line ASCII values) against what
    Django's check and the policy make of the same values."""
    rng = random.Random(7)
    alphabet = "".join(chr(c) for c in range(0x20, 0x7f)) + "\t"
    for name in ("Subject", "From", "To", "List-Unsubscribe-Post", "X-Campaign"):
        for length in list(range(0, 90)) + [120, 200]:
            for _ in range(20):
                value = "".join(rng.choice(alphabet) for _ in range(length))
                expected = _fold(*message.forbid_multi_line_headers(name, value,
                                                                            "utf-8"))
                assert _header(name, value) == expected, (name, value)
    with pytest.raises(BadHeaderError):
        _header("Subject", "two\nlines")


def test_multipart_headers_fold_around_any_boundary_as_compat32_does():
    for _ in range(500):
        boundary = f"=_crm_{uuid.uuid4().hex}"
        expected = (_fold("Content-Type", f'multipart/alternative; boundary="{boundary}"')
                    + _fold("MIME-Version", "1.0"))
        assert _multipart_headers(boundary) == expected
    odd = "===============123 4=="  # not one of ours: folded on its own
    assert _multipart_headers(odd) == (
        _fold("Content-Type", f'multipart/alternative; boundary="{odd}"')
        + _fold("MIME-Version", "1.0"))
