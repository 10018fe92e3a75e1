"""A real SMTP server (aiosmtpd) on a free loopback port that records what it receives.

    from campaigns.tests.smtp import smtp_sink  # noqa: F401 - the fixture

`smtp_sink` starts the server, points Django's SMTP backend at it (via the `settings` fixture)
and yields the SmtpSink. Each accepted email is recorded when its DATA is complete, before the
server replies, which is when a real server takes responsibility for it. Knobs for tests:
`delay` (seconds before every final reply: a slow server), `rcpt_replies` (address → reply
for RCPT, e.g. "550 5.1.1 No such user" or "451 4.3.0 Try later"), `data_delays` (address →
seconds before the final reply: longer than EMAIL_TIMEOUT makes the client time out).
"""
import asyncio
import email
import email.policy
import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from crm.tests.servers import free_port


@dataclass(frozen=True)
class Received:
    message_id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    peer: tuple
    message: email.message.EmailMessage
    raw: bytes = b""  # the bytes as received (DKIM signatures are checked on these)


class SmtpSink:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.connections = 0
        self.delay = 0.0
        self.rcpt_replies: dict[str, str] = {}
        self.data_delays: dict[str, float] = {}
        self._lock = threading.Lock()
        self.host, self.port = "127.0.0.1", 0

    # aiosmtpd hooks
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.received.append(Received(
                message_id=str(message["Message-ID"]), mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos), peer=session.peer, message=message,
                raw=envelope.content))
        delay = max([self.delay] + [self.data_delays.get(a.lower(), 0) for a in envelope.rcpt_tos])
        if delay:
            await asyncio.sleep(delay)
        return "250 2.0.0 Accepted"

    # reading what arrived
    def message_ids(self) -> Counter:
        with self._lock:
            return Counter(r.message_id for r in self.received)

    def by_message_id(self, message_id: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.message_id == message_id]

    def wait_for(self, count: int, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.01)
        return False


class SinkServer:
    """Start/stop an SmtpSink outside pytest (the benchmark uses it too)."""

    def __init__(self, sink: SmtpSink | None = None, port: int | None = None) -> None:
        self.sink = sink or SmtpSink()
        self.sink.port = port or free_port()
        self.controller = Controller(self.sink, hostname=self.sink.host, port=self.sink.port,
                                     ready_timeout=10)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self.sink

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def email_settings(settings, sink: SmtpSink) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_sink(settings):
    with SinkServer() as sink:
        email_settings(settings, sink)
        yield sink
