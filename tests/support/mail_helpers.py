"""Shared by the inbound e-mail tests: real RFC 822 bytes, and the command fed with them."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.core.management import call_command

from tickets.models import Attachment, InboundEmail, Ticket, TicketMessage

NOW = datetime(2026, 6, 8, 14, tzinfo=UTC)  # Monday 10:00 on the help desk's clock


def mail(
    sender: str | None,
    subject: str = "Publishing fails",
    body: str = "Every publish job ends with error 500.",
    *,
    files=(),
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> bytes:
    """A message as a mail client sends it; ``files`` are (name, bytes, content type)."""
    message = EmailMessage()
    if sender is not None:
        message["From"] = sender
    message["To"] = "support@provider.test"
    message["Subject"] = subject
    message["Date"] = format_datetime(NOW)
    message["Message-ID"] = message_id or make_msgid(domain="customer.test")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for name, data, content_type in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def ingest(raw: bytes) -> str:
    """Pipe ``raw`` to ``manage.py ingest_email``; what it printed."""
    out = io.StringIO()
    call_command("ingest_email", stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue()


def saved() -> tuple[int, int, int, int]:
    return (
        Ticket.objects.count(),
        TicketMessage.objects.count(),
        Attachment.objects.count(),
        InboundEmail.objects.count(),
    )


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()]
