"""Queue e-mail in the outbox, and deliver one queued message.

``outbox_enqueue`` writes the row in the caller's transaction and dispatches the send
task only after that transaction commits (a rolled-back change e-mails nobody).
``outbox_deliver`` sends one message under a row lock, so two workers never send it
twice; a temporary SMTP failure leaves it pending with a backoff, a permanent one
marks it failed.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from outbox.models import OutboxAttachment, OutboxMessage
from slaportal.transactions import after_commit

log = logging.getLogger(__name__)

# A pending message this overdue is re-dispatched by ``outbox_dispatch_overdue``: its own
# task was lost (broker down at enqueue time, a worker killed mid-send).
OVERDUE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class OutboxFile:
    """An attachment to queue: its bytes, or the name of a file in default storage."""

    filename: str
    content_type: str
    content: bytes | None = None
    storage_path: str = ""


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt did: ``status`` is the message's status afterwards, or
    ``skipped`` when there was nothing to do; ``retry_in`` is set when it stays pending."""

    status: str
    retry_in: timedelta | None = None


def _recipients(to: Sequence[str] | str) -> list[str]:
    addresses = [to] if isinstance(to, str) else list(to)
    cleaned = list(dict.fromkeys(a.strip() for a in addresses if a and a.strip()))
    if not cleaned:
        raise ValidationError({"to": ["Give at least one recipient."]})
    for address in cleaned:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"to": [f"{address!r} is not an e-mail address."]}) from None
    return cleaned


def _dispatch(message_id: int) -> None:
    from outbox.tasks import outbox_send  # the task module imports this one

    outbox_send.delay(message_id)


def outbox_enqueue(
    *,
    to: Sequence[str] | str,
    subject: str,
    body: str,
    dedupe_key: str,
    html_body: str = "",
    attachments: Sequence[OutboxFile] = (),
    now: datetime | None = None,
) -> tuple[OutboxMessage, bool]:
    """Queue one e-mail; returns ``(message, created)``.

    ``dedupe_key`` names the notification (``ticket-reply:42``, ``statement:7``). A key
    already queued returns the existing row with ``created=False`` and queues and sends
    nothing, so a job that runs twice never e-mails twice. The send task is dispatched
    after the surrounding transaction commits; if the broker is unreachable then, the
    message stays pending and ``outbox_dispatch_overdue`` picks it up.
    """
    now = now or timezone.now()
    recipients = _recipients(to)
    subject = " ".join((subject or "").split())[:300]
    if not subject:
        raise ValidationError({"subject": ["Give the e-mail a subject."]})
    if not dedupe_key:
        raise ValidationError({"dedupe_key": ["Give the e-mail a dedupe key."]})
    for file in attachments:
        if (file.content is None) == (not file.storage_path):
            raise ValidationError(
                {"attachments": [f"{file.filename}: give its bytes or a stored file, not both."]}
            )
    existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing, False
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                dedupe_key=dedupe_key,
                to=recipients,
                subject=subject,
                body=body,
                html_body=html_body,
                message_id=make_msgid(idstring="outbox", domain=domain),
                created_at=now,
                next_attempt_at=now,
            )
            OutboxAttachment.objects.bulk_create(
                OutboxAttachment(
                    message=message,
                    filename=file.filename,
                    content_type=file.content_type,
                    content=file.content,
                    storage_path=file.storage_path,
                )
                for file in attachments
            )
    except IntegrityError:
        # Another transaction queued the same key first (the unique index waited for it).
        existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
        if existing is None:
            raise
        return existing, False
    # robust: a broker outage must not undo or fail the business change that committed.
    after_commit(_dispatch, message.pk)
    return message, True


def _email(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(message.to),
        headers={"Message-ID": message.message_id},
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    for attachment in message.attachments.all():
        if attachment.content is not None:
            content = bytes(attachment.content)
        else:
            with default_storage.open(attachment.storage_path, "rb") as handle:
                content = handle.read()
        email.attach(attachment.filename, content, attachment.content_type)
    return email


def is_temporary(exc: BaseException) -> bool:
    """SMTP 4xx replies and network trouble are worth retrying; 5xx replies are not, and
    neither is anything else (a missing attachment file, a malformed address)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return any(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return not 500 <= exc.smtp_code < 600
    return isinstance(
        exc, ConnectionError | TimeoutError | smtplib.SMTPServerDisconnected | socket.gaierror
    )


def backoff(attempts: int) -> timedelta:
    """``OUTBOX_RETRY_BASE_SECONDS`` (1 min) after the first failure, then doubling, capped."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS
    seconds = min(base * 2 ** (attempts - 1), settings.OUTBOX_MAX_BACKOFF_SECONDS)
    return timedelta(seconds=seconds)


def outbox_deliver(*, message_id: int, now: datetime | None = None) -> Delivery:
    """Send one pending message through Django's e-mail backend and record the outcome.

    The row stays locked (``FOR UPDATE SKIP LOCKED``) while it is sent: another worker
    given the same id skips it instead of sending it a second time.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        )
        if message is None or message.status != OutboxMessage.Status.PENDING:
            log.info("outbox %s: nothing to send (gone, sent, failed or in progress)", message_id)
            return Delivery("skipped")
        now = now or timezone.now()
        message.attempts += 1
        try:
            email = _email(message)
            with get_connection(fail_silently=False) as connection:
                sent = connection.send_messages([email])
            if not sent:
                raise smtplib.SMTPException("the e-mail backend accepted no message")
        except Exception as exc:  # noqa: BLE001 — every failure is recorded on the row
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if is_temporary(exc) and message.attempts < settings.OUTBOX_MAX_ATTEMPTS:
                delay = backoff(message.attempts)
                message.next_attempt_at = now + delay
                message.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                log.warning(
                    "outbox %s: attempt %s failed, retry in %s: %s",
                    message.pk,
                    message.attempts,
                    delay,
                    message.last_error,
                )
                return Delivery(OutboxMessage.Status.PENDING, delay)
            message.status = OutboxMessage.Status.FAILED
            message.save(update_fields=["attempts", "last_error", "status"])
            log.error("outbox %s: failed for good: %s", message.pk, message.last_error)
            return Delivery(OutboxMessage.Status.FAILED)
        message.status = OutboxMessage.Status.SENT
        message.sent_at = now
        message.last_error = ""
        message.save(update_fields=["attempts", "last_error", "status", "sent_at"])
        return Delivery(OutboxMessage.Status.SENT)


def outbox_dispatch_overdue(*, now: datetime | None = None) -> int:
    """Dispatch the send task again for pending messages whose own task is overdue."""
    now = now or timezone.now()
    ids = list(
        OutboxMessage.objects.filter(
            status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now - OVERDUE_AFTER
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
    for message_id in ids:
        _dispatch(message_id)
    return len(ids)
