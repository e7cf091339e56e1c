"""A real SMTP server on loopback (aiosmtpd, in-process) for the e-mail tests: the
``smtp`` fixture points Django's SMTP backend at it and records what it accepts."""

from __future__ import annotations

import email
import logging
import socket

import pytest
from aiosmtpd.controller import Controller


class Recorder:
    """Accepts mail, or answers DATA with the next scripted reply (e.g. a 451)."""

    def __init__(self) -> None:
        self.replies: list[str] = []
        self.received: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        reply = self.replies.pop(0) if self.replies else "250 Message accepted"
        if reply.startswith("250"):
            self.received.append(email.message_from_bytes(envelope.original_content))
        return reply


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp(settings):
    # aiosmtpd logs every connection at INFO from its own thread, which can outlive the
    # test's captured output; only its warnings matter here.
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    use_smtp(settings, port)
    try:
        yield handler
    finally:
        controller.stop()
        server_log.setLevel(level)


def attachments(message) -> dict[str, bytes]:
    return {
        part.get_filename(): part.get_payload(decode=True)
        for part in message.walk()
        if part.get_filename()
    }
