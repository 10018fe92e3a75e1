"""The sender writes emails to the wire with its own, faster header folding
(campaigns.smtp.wire_bytes): the bytes must be exactly what Django's own serialisation
gives, for every kind of header a campaign email has."""
import pytest
from django.core.mail import EmailMultiAlternatives, get_connection

from django.core.mail.message import sanitize_address

from campaigns.smtp import mime_bytes, _recipient_address, wire_bytes

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
