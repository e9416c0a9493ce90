"""A real SMTP server for the sending tests: aiosmtpd in this process on 127.0.0.1.

`sink` records every envelope and raw message it accepts, and answers scripted replies for
chosen recipients: `sink.script("a@x.example", "450 4.2.1 Try later", "550 5.1.1 No such
user")` makes the next RCPT TO for that address get those replies, one per attempt, then
accepts it; the reply "drop" closes the connection instead. `sink.on_data` is called with
each message once it is recorded, before the server answers 250 (the crash test kills its
worker there).
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    helo: str = ""  # the name the client gave in EHLO

    @property
    def message(self) -> email.message.EmailMessage:
        # Line ends as a mail client shows them (the wire has CRLF).
        raw = self.raw.replace(b"\r\n", b"\n")
        return email.message_from_bytes(raw, policy=email.policy.default)


class Sink:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.logins: list[tuple[str, str]] = []
        self.connections = 0
        self.on_data: Callable[[Received], None] | None = None
        self._scripts: dict[str, deque[str]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.host = "127.0.0.1"
        self.port = 0

    def script(self, address: str, *replies: str) -> None:
        self._scripts[address.lower()].extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.logins.clear()
            self._scripts.clear()
            self.connections = 0
            self.on_data = None

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address.lower() in (a.lower() for a in r.rcpt_tos)]

    @property
    def recipients(self) -> list[str]:
        return [a for r in self.received for a in r.rcpt_tos]

    # aiosmtpd handler hooks (run in the server's thread)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            queue = self._scripts.get(address.lower())
            reply = queue.popleft() if queue else None
        if reply == "drop":
            server.transport.close()
            return "421 4.4.2 Closing connection"
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        received = Received(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            envelope.original_content,
            session.host_name or "",
        )
        with self._lock:
            self.received.append(received)
            number = len(self.received)
        if self.on_data is not None:
            self.on_data(received)
        return f"250 2.0.0 Ok: queued as {number}"


def _authenticator(sink: Sink):
    def authenticate(server, session, envelope, mechanism, auth_data):
        sink.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    return authenticate


# aiosmtpd logs every command at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def _sink_server():
    sink = Sink()
    sink.port = _free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=sink.port,
        authenticator=_authenticator(sink),
        auth_require_tls=False,
        ready_timeout=10,
    )
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def sink(_sink_server):
    _sink_server.reset()
    yield _sink_server
    _sink_server.reset()


@pytest.fixture
def smtp_default(sink, settings):
    """The install's default mailer is SMTP to the sink (as EMAIL_URL=smtp://... gives)."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": sink.host, "port": sink.port, "timeout": 5},
        }
    }
    return sink
