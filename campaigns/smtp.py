"""Talking SMTP: one connection per batch, replies sorted into what they mean for a row
(sent, try later, bounced, rejected, ambiguous), and the email's bytes on the wire. No models:
campaigns.outbox decides what to do with each outcome."""
import logging
import re
import smtplib
import uuid
from email.generator import BytesGenerator
from email.header import MAXLINELEN
from email.policy import Compat32
from functools import lru_cache
from io import BytesIO

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail import message as django_message
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, sanitize_address

logger = logging.getLogger(__name__)

class Temporary(Exception):
    """Nothing was accepted; try again later (4xx, or the connection failed before the body)."""


class ConnectionLost(Temporary):
    """The connection broke before the body went out: reconnecting may help at once."""


class ServerUnavailable(Temporary):
    """No connection could be opened: the rest of the batch waits too."""


class Bounce(Exception):
    """The server refused the recipient for good (5xx at RCPT)."""


class Rejected(Exception):
    """A permanent refusal that is not about the address (5xx at MAIL FROM or after DATA)."""


class Ambiguous(Exception):
    """The connection broke while the body was out: the server may or may not have the email."""


def _response_error(code: int, text: str, *, recipient: bool) -> Exception:
    detail = f"{code} {text}"
    if 400 <= code < 500:
        return Temporary(detail)
    return Bounce(detail) if recipient else Rejected(detail)


def _reply_text(reply) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _dot_stuff(data: bytes) -> bytes:
    """RFC 5321 transparency: a line starting with '.' gets another '.'; end with CRLF.CRLF."""
    data = data.replace(b"\r\n.", b"\r\n..")
    if data.startswith(b"."):
        data = b"." + data
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


@lru_cache(maxsize=16)
def _sender_address(from_email: str, encoding: str) -> str:
    """The envelope sender: the same few From addresses for every email, parsed once."""
    return sanitize_address(from_email, encoding)


# A header value compat32 cannot fold (no space, tab, ';' or ','): one printable ASCII token.
_ONE_TOKEN = re.compile(r"[\x21-\x2b\x2d-\x3a\x3c-\x7e]+")


class _WirePolicy(Compat32):
    """Django's policy (compat32), with a shortcut for the common header: ASCII, one line,
    short enough not to fold. Folding builds an email.header.Header per header, a fifth of
    the sender's CPU in a profile, to return such a value unchanged. Likewise a long value
    that is one token (a List-Unsubscribe URL): compat32 moves it whole to a line of its own.
    (campaigns/tests/test_wire_format.py checks the bytes are the same as Django's.)"""

    def _fold(self, name, value, sanitize):
        if (isinstance(value, str) and value.isascii() and "\r" not in value
                and "\n" not in value and value == value.strip()):
            if len(name) + 2 + len(value) <= (self.max_line_length or 78):
                return f"{name}: {value}{self.linesep}"
            if self.max_line_length == 78 and len(name) < 60 and _ONE_TOKEN.fullmatch(value):
                return f"{name}: {self.linesep} {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_WIRE_POLICY = _WirePolicy(linesep="\r\n")


# A bare ASCII address of the usual characters (what contact addresses are after
# customers.normalise): Django's sanitize_address returns it unchanged, after parsing it with
# the email package's full header grammar (a tenth of the sender's CPU in a profile).
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _recipient_address(address: str, encoding: str) -> str:
    if _PLAIN_ADDRESS.fullmatch(address):
        return address
    return sanitize_address(address, encoding)


def _smtp_quoted(address: str) -> str:
    """smtplib.quoteaddr(address): `<address>` for a plain one, without parsing it with the
    email package's address parser (as quoteaddr does, twice per email)."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


@lru_cache(maxsize=16)
def _smtp_quoted_sender(sender: str) -> str:
    """The same few senders for every email: quoted once."""
    return smtplib.quoteaddr(sender)


def mime_bytes(email) -> bytes:
    """The email as it goes on the wire: what Django's `email.message().as_bytes()` gives,
    with CRLF line ends, made with less CPU.

    A multipart email gets its boundary here: left to itself, the email package draws a
    random one and then compiles a regular expression per email to make sure the body does
    not contain it, a new pattern every time, which also flushes the `re` module's cache (a
    tenth of the sender's CPU in a profile). 128 random bits cannot occur in a body by chance,
    and nobody writing a body can know them in advance.

    A campaign email (a text body and at most an HTML alternative, short lines) is written
    directly (_direct_bytes), the rest through the email package.
    """
    boundary = f"{_BOUNDARY_PREFIX}{uuid.uuid4().hex}"
    direct = _direct_bytes(email, boundary)
    if direct is not None:
        return direct
    mime = email.message()
    if mime.is_multipart():
        mime.set_boundary(boundary)
    return wire_bytes(mime)


# Django's mail classes whose message() _direct_bytes repeats (not subclasses: they may
# override it).
_DIRECT_CLASSES = (EmailMessage, EmailMultiAlternatives)
# Extra headers _direct_bytes leaves to the email package: those message() treats apart or
# that describe the MIME structure.
_STRUCTURAL_HEADERS = frozenset({"from", "to", "cc", "reply-to", "bcc", "subject",
                                 "mime-version", "content-type", "content-transfer-encoding"})
_LINE_ENDS = re.compile(r"\r\n|\r|\n")  # what the email package turns into CRLF in a body
_CRLF = "\r\n"


def _fold(name: str, value) -> bytes:
    return _WIRE_POLICY.fold_binary(name, value)


@lru_cache(maxsize=8)
def _part_headers(subtype: str, transfer_encoding: str) -> bytes:
    """A text part's own headers, in the order the email package gives them."""
    return (_fold("Content-Type", f'text/{subtype}; charset="utf-8"')
            + _fold("MIME-Version", "1.0")
            + _fold("Content-Transfer-Encoding", transfer_encoding))


def _text_part(text: str) -> tuple[str, bytes] | None:
    """(transfer encoding, body bytes) of a text part as Django's SafeMIMEText and the
    email package write it; None when it would be quoted-printable (a line over 998 bytes)."""
    if any(len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT
           for line in text.splitlines()):
        return None
    return ("7bit" if text.isascii() else "8bit"), _LINE_ENDS.sub(_CRLF, text).encode()


def _header(name: str, value) -> bytes:
    """Django's SafeMIME*.__setitem__ (forbid_multi_line_headers), then folding. A one-line
    ASCII value comes out of forbid_multi_line_headers as it went in, except a Subject, which
    Django passes through email.header.Header: that too returns an ASCII value of at most 76
    characters unchanged (test_wire_format checks both), without building the Header."""
    if (isinstance(value, str) and value.isascii() and "\n" not in value and "\r" not in value
            and (len(value) <= MAXLINELEN or name.lower() != "subject")):
        return _fold(name, value)
    return _fold(*django_message.forbid_multi_line_headers(name, value, "utf-8"))


# mime_bytes's boundaries: this prefix and a uuid4's 32 hex digits.
_BOUNDARY_PREFIX = "=_crm_"
_OUR_BOUNDARY = re.compile(re.escape(_BOUNDARY_PREFIX) + "[0-9a-f]{32}")
_BOUNDARY_STANDIN = _BOUNDARY_PREFIX + "0" * 32


def _multipart_headers_folded(boundary: str) -> bytes:
    return (_fold("Content-Type", f'multipart/alternative; boundary="{boundary}"')
            + _fold("MIME-Version", "1.0"))


@lru_cache(maxsize=1)
def _multipart_headers_around() -> tuple[bytes, ...]:
    """The folded multipart headers, split where the boundary goes. One of ours has no space,
    ';' or ',' where compat32 could fold, and always the same length, so every email's headers
    fold the same way around it."""
    return tuple(_multipart_headers_folded(_BOUNDARY_STANDIN).split(_BOUNDARY_STANDIN.encode()))


def _multipart_headers(boundary: str) -> bytes:
    if not _OUR_BOUNDARY.fullmatch(boundary):
        return _multipart_headers_folded(boundary)
    return boundary.encode().join(_multipart_headers_around())


def _direct_bytes(email, boundary: str) -> bytes | None:
    """Django's message() and the email package's BytesGenerator (with _WirePolicy), done
    without building the MIME objects (a seventh of a signed email's CPU): the same headers
    with the same values (Django's forbid_multi_line_headers, the same Date and Message-ID
    rules), folded by the same policy, the same parts, transfer encodings and line ends.
    campaigns/tests/test_wire_format.py compares the bytes with the email package's.
    None (the caller uses the email package) for anything else: attachments, Cc, Reply-To,
    an alternative that is not one HTML part, another charset, a structural extra header, a
    line that needs quoted-printable, text that does not encode."""
    if (type(email) not in _DIRECT_CLASSES or email.attachments or email.cc
            or email.reply_to or email.content_subtype != "plain"
            or (email.encoding or settings.DEFAULT_CHARSET) != "utf-8"
            or any(name.lower() in _STRUCTURAL_HEADERS for name in email.extra_headers)):
        return None
    alternatives = getattr(email, "alternatives", [])
    if len(alternatives) > 1 or (alternatives and alternatives[0][1] != "text/html"):
        return None
    try:
        parts = [("plain", email.body)] if email.body or not alternatives else []
        if alternatives:
            parts.append(("html", alternatives[0][0]))
        written = []
        for subtype, text in parts:
            if not isinstance(text, str) or (part := _text_part(text)) is None:
                return None
            written.append((subtype, *part))
    except UnicodeEncodeError:  # lone surrogates: let the email package say what it says
        return None

    if alternatives:
        out = [_multipart_headers(boundary)]
    else:
        subtype, transfer_encoding, _body = written[0]
        out = [_part_headers(subtype, transfer_encoding)]
    extra = email.extra_headers
    out.append(_header("Subject", email.subject))
    out.append(_header("From", email.from_email))
    if email.to:
        out.append(_header("To", ", ".join(str(address) for address in email.to)))
    names = {name.lower() for name in extra}
    if "date" not in names:
        out.append(_header("Date", django_message.formatdate(
            localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        out.append(_header("Message-ID", django_message.make_msgid(
            domain=django_message.DNS_NAME)))
    out.extend(_header(name, value) for name, value in extra.items())
    out.append(b"\r\n")
    if not alternatives:
        out.append(written[0][2])
        return b"".join(out)
    delimiter = f"--{boundary}\r\n".encode()
    for index, (subtype, transfer_encoding, body) in enumerate(written):
        out += [b"\r\n" if index else b"", delimiter, _part_headers(subtype, transfer_encoding),
                b"\r\n", body]
    out.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(out)


def wire_bytes(mime) -> bytes:
    """`mime.as_bytes(linesep="\r\n")` of a Django email message, faster (_WirePolicy)."""
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_WIRE_POLICY).flatten(mime, linesep="\r\n")
    return out.getvalue()


class Outbound:
    """One SMTP connection for a batch, opened on first use and reopened after a failure.

    For Django's SMTP backend it speaks MAIL/RCPT/DATA itself (smtplib's public commands), to
    know whether a failure happened before the body went out (safe to retry) or after
    (ambiguous). Other backends (locmem in tests, console) just get send_messages().

    `signer` (campaigns.dkim.Signer) DKIM-signs each email's bytes once, before the first
    attempt; the reconnect-and-retry below sends the very same signed bytes.
    """

    def __init__(self, signer=None) -> None:
        self.backend = get_connection(fail_silently=False)
        self.is_smtp = isinstance(self.backend, SMTPBackend)
        # An email service's API (django-anymail, CRM_EMAIL_SERVICE): campaigns.email_services
        # sorts its answers like SMTP replies. The service signs (DKIM) itself.
        self.is_service = type(self.backend).__module__.startswith("anymail.")
        self.signer = signer
        self.delivered_on_connection = 0

    def close(self) -> None:
        try:
            self.backend.close()  # Django's SMTP backend forgets the connection even on errors
        except Exception:  # closing a broken connection is best effort
            logger.debug("Closing the SMTP connection failed", exc_info=True)

    def send(self, email) -> str:
        """Hand the email over; returns the email service's id for it ("" over SMTP)."""
        if self.is_service:
            from .email_services import service_send

            return service_send(self.backend, email)
        if not self.is_smtp:
            self._send_other(email)
            return ""
        data = mime_bytes(email)
        if self.signer is not None:
            data = self.signer.sign(data)
        data = _dot_stuff(data)
        try:
            self._send_smtp(email, data)
        except ConnectionLost:
            if not self.delivered_on_connection:
                raise
            # A server may close an idle or long-used connection: reconnect once, right away.
            self.delivered_on_connection = 0
            self._send_smtp(email, data)
        self.delivered_on_connection += 1
        return ""

    def _send_other(self, email) -> None:
        try:
            self.backend.send_messages([email])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise _response_error(code, _reply_text(text), recipient=True) from error
        except smtplib.SMTPResponseException as error:
            raise _response_error(error.smtp_code, _reply_text(error.smtp_error),
                                  recipient=False) from error
        except OSError as error:
            raise Temporary(str(error)) from error

    def _open(self) -> smtplib.SMTP:
        if self.backend.connection is None:
            try:
                self.backend.open()
                self.backend.connection.ehlo_or_helo_if_needed()
            except OSError as error:  # smtplib errors are OSErrors too
                self.close()
                raise ServerUnavailable(str(error)) from error
            self.delivered_on_connection = 0
        return self.backend.connection

    def _envelope(self, smtp: smtplib.SMTP, sender: str, recipients: list[str]) -> None:
        # The commands smtplib's mail() and rcpt() send, with the addresses quoted by
        # _smtp_quoted (the same text, parsed only when needed).
        smtp.putcmd("mail", f"FROM:{_smtp_quoted_sender(sender)}")
        code, reply = smtp.getreply()
        if code != 250:
            raise _response_error(code, _reply_text(reply), recipient=False)
        for recipient in recipients:
            smtp.putcmd("rcpt", f"TO:{_smtp_quoted(recipient)}")
            code, reply = smtp.getreply()
            if code not in (250, 251):
                raise _response_error(code, _reply_text(reply), recipient=True)
        code, reply = smtp.docmd("data")
        if code != 354:
            raise _response_error(code, _reply_text(reply), recipient=False)

    def _send_smtp(self, email, data: bytes) -> None:
        """`data`: the email's bytes, signed if DKIM is on, dot-stuffed."""
        encoding = email.encoding or settings.DEFAULT_CHARSET
        sender = _sender_address(email.from_email, encoding)
        recipients = [_recipient_address(address, encoding) for address in email.recipients()]
        smtp = self._open()
        try:
            self._envelope(smtp, sender, recipients)
        except (Temporary, Bounce, Rejected):
            self._reset(smtp)
            raise
        except OSError as error:
            self.close()
            raise ConnectionLost(str(error)) from error
        # The body goes out: from here a broken connection leaves the outcome unknown.
        try:
            smtp.send(data)
            code, reply = smtp.getreply()
        except OSError as error:
            self.close()
            raise Ambiguous(str(error)) from error
        if code != 250:
            raise _response_error(code, _reply_text(reply), recipient=False)

    def _reset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except OSError:
            self.close()
