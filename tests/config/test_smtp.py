"""Mail leaves through a real SMTP conversation: an aiosmtpd sink on loopback receives it."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time

import pytest
from aiosmtpd.controller import Controller

pytestmark = pytest.mark.django_db


class Sink:
    """aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    """A running SMTP server on 127.0.0.1 and the default mailer pointed at it."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 5},
        }
    }
    try:
        yield sink
    finally:
        controller.stop()


def test_password_reset_mail_arrives_over_smtp_with_a_working_link(client, owner, smtp_sink):
    response = client.post("/accounts/password/reset/", {"email": owner.email})
    assert response.status_code == 302
    smtp_sink.wait_for(1)
    assert len(smtp_sink.messages) == 1
    message = smtp_sink.messages[0]
    assert smtp_sink.envelopes[0].rcpt_tos == [owner.email]
    assert message["To"] == owner.email
    assert "Password Reset" in message["Subject"] or "password" in message["Subject"].lower()
    body = message.get_body(preferencelist=("plain", "html")).get_content()
    link = re.search(r"https?://[^\s\"<>]+/accounts/password/reset/key/[^\s\"<>]+", body)
    assert link, body
    # The link opens the set-a-new-password form (allauth redirects once to hide the key).
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path, follow=True)
    assert page.status_code == 200
    assert b"password1" in page.content


def test_plain_django_mail_goes_through_the_default_mailer(smtp_sink):
    from django.core.mail import send_mail

    send_mail("Hello", "Body text", "Prospector <no-reply@example.com>", ["someone@example.com"])
    smtp_sink.wait_for(1)
    assert smtp_sink.messages[0]["Subject"] == "Hello"
    assert smtp_sink.envelopes[0].mail_from == "no-reply@example.com"
