"""Queue e-mail in the outbox, and deliver one queued message exactly once.

``outbox_enqueue`` writes the row in the caller's transaction and dispatches the send
task only after that transaction commits (a rolled-back change e-mails nobody).

``outbox_deliver`` sends one message; each step is its own committed UPDATE, never a
transaction held open across the SMTP conversation:

1. **Claim** — ``pending → sending`` with the time and a token naming this attempt
   (``claimed_at``, ``claimed_by``), by a conditional UPDATE: of two workers given the
   same id, one updates the row and sends, the other updates nothing and skips.
2. **DATA mark** — just before the DATA command goes out (``smtplib.SMTP.data``, wrapped
   for this one connection), ``data_started_at`` is set, again only while the claim is
   this attempt's. If the claim was taken over (below), the attempt stops before DATA.
3. **Sent** — as soon as ``sendmail`` returns (the server's 250), before QUIT.

The message keeps the ``Message-ID`` made at enqueue time on every attempt.

A worker killed mid-send leaves the row ``sending``. ``outbox_reconcile`` (run by the
periodic ``outbox_flush``) takes over rows claimed longer ago than
``OUTBOX_SENDING_TIMEOUT_SECONDS`` (longer than Celery's hard time limit, so the attempt
is dead; and if it is not, step 2 fences it off):

* no DATA mark — the server never saw the content: back to ``pending``, sent again;
* a DATA mark — the server may have accepted it: ``held`` for an operator (the outbox
  admin lists it; the operator confirms it delivered, from the mail server's log, or
  releases it to be sent again), never resent automatically.

An attempt that reached DATA and then lost the connection or timed out without a reply
is held the same way; a 4xx/5xx reply to DATA is a clear answer and is retried or
failed as before.

Residual window, stated honestly: plain SMTP has no way to ask "did you accept
Message-ID X?", so a kill between the DATA mark and the 250 and a kill between the 250
and step 3 look the same afterwards. Both are held: no message is ever delivered twice
by the outbox, and one killed in that window (milliseconds per message) waits for an
operator instead of being delivered automatically. A kill before the DATA mark (while
connecting, at MAIL FROM or RCPT TO) is always delivered, once, by reconciliation.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.db import connection as db_connection
from django.db.models import F, QuerySet
from django.utils import timezone

from outbox.models import OutboxAttachment, OutboxMessage
from outbox.services.headers import checked_headers, mail_domain
from slaportal.storage import is_temporary as storage_is_temporary
from slaportal.transactions import after_commit

log = logging.getLogger(__name__)

# A pending message this overdue is re-dispatched by ``outbox_dispatch_overdue``: its own
# task was lost (broker down at enqueue time, a worker killed mid-send).
OVERDUE_AFTER = timedelta(minutes=5)

# Pauses between tries to record a 250: that fact lives only in this process's memory, so
# a database restarting at that moment is waited out rather than the message held.
RECORD_SENT_PAUSES = (1.0, 2.0, 4.0, 8.0)


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
    message_id: str = "",
    headers: Mapping[str, str] | None = None,
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
    extra = checked_headers(headers or {})
    existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                dedupe_key=dedupe_key,
                to=recipients,
                subject=subject,
                body=body,
                html_body=html_body,
                message_id=message_id or make_msgid(idstring="outbox", domain=mail_domain()),
                headers=extra,
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
        headers={"Message-ID": message.message_id, **(message.headers or {})},
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
    """SMTP 4xx replies and network trouble (the mail server's, or the file storage's for
    an attachment) are worth retrying; 5xx replies are not, and neither is anything else
    (a missing attachment file, a malformed address)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return any(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return not 500 <= exc.smtp_code < 600
    return storage_is_temporary(exc) or isinstance(
        exc, ConnectionError | TimeoutError | smtplib.SMTPServerDisconnected | socket.gaierror
    )


def backoff(attempts: int) -> timedelta:
    """``OUTBOX_RETRY_BASE_SECONDS`` (1 min) after the first failure, then doubling, capped."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS
    seconds = min(base * 2 ** (attempts - 1), settings.OUTBOX_MAX_BACKOFF_SECONDS)
    return timedelta(seconds=seconds)


class ClaimLost(Exception):
    """This attempt's claim was taken over by reconciliation: it must not send DATA."""


def _attempt_token() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(6)}"


def _claim(message_id: int, now: datetime) -> str | None:
    """Mark the message ``sending`` for a new attempt; None when it is not pending."""
    token = _attempt_token()
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status=OutboxMessage.Status.PENDING
    ).update(
        status=OutboxMessage.Status.SENDING,
        claimed_at=now,
        claimed_by=token,
        data_started_at=None,
        attempts=F("attempts") + 1,
    )
    return token if claimed else None


def _mine(message_id: int, token: str, *statuses: str) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(
        pk=message_id, claimed_by=token, status__in=statuses or [OutboxMessage.Status.SENDING]
    )


def _mark_data_started(message_id: int, token: str) -> None:
    if not _mine(message_id, token).update(data_started_at=timezone.now()):
        raise ClaimLost(f"outbox {message_id}: claim {token} was taken over before DATA")


def _before_data(connection, mark: Callable[[], None]) -> None:
    """Call ``mark`` right before the message's content leaves: before the DATA command on
    an SMTP connection, or at once for a backend without one (file, memory), whose whole
    send then counts as the hand-over."""
    smtp = getattr(connection, "connection", None)
    if not isinstance(smtp, smtplib.SMTP):
        mark()
        return
    data = smtp.data

    # An attribute on this one connection object, seen by its ``sendmail`` (which calls
    # ``self.data`` after MAIL FROM and RCPT TO): Django's backend gives no other hook
    # between RCPT and DATA, and the configured backend class is left as it is.
    def marked_data(msg: bytes | str) -> tuple[int, bytes]:
        mark()
        return data(msg)

    smtp.data = marked_data


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001 — the outcome is recorded; a failed QUIT changes nothing
        log.debug("outbox: closing the SMTP connection failed", exc_info=True)


def _mark_sent(message_id: int, token: str, now: datetime) -> bool:
    """``held`` too: reconciliation may have held the message while this attempt waited
    for the reply, and the 250 answers what the operator would have had to find out."""
    mine = _mine(message_id, token, OutboxMessage.Status.SENDING, OutboxMessage.Status.HELD)
    return bool(mine.update(status=OutboxMessage.Status.SENT, sent_at=now, last_error=""))


def _record_sent(message_id: int, token: str, now: datetime) -> bool:
    """Mark sent after the 250, trying again while the database is unreachable."""
    for pause in (*RECORD_SENT_PAUSES, None):
        try:
            return _mark_sent(message_id, token, now)
        except (OperationalError, InterfaceError):
            # Inside a transaction a new connection would not see its rows: give up there.
            if pause is None or db_connection.in_atomic_block:
                raise
            log.warning(
                "outbox %s: accepted, recording it failed; again in %s s", message_id, pause
            )
            db_connection.close()
            time.sleep(pause)
    return False  # not reached: the last try returns or raises


def _record_failure(
    message: OutboxMessage, token: str, exc: Exception, now: datetime, *, data_started: bool
) -> Delivery:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    retry_in = None
    if data_started and not isinstance(exc, smtplib.SMTPResponseException):
        # The content went out and no reply came back (connection lost, timeout): the
        # server may have said 250 to a client that never heard it. Only a 4xx/5xx reply
        # is proof of refusal; without one, sending again could deliver it twice.
        status = OutboxMessage.Status.HELD
        error = f"{error} (after DATA, with no reply: held, the server may have accepted it)"
        fields = {}
    elif (
        is_temporary(exc) or isinstance(exc, DatabaseError)
    ) and message.attempts < settings.OUTBOX_MAX_ATTEMPTS:
        status = OutboxMessage.Status.PENDING
        retry_in = backoff(message.attempts)
        fields = {"next_attempt_at": now + retry_in}
    else:
        status = OutboxMessage.Status.FAILED
        fields = {}
    if not _mine(message.pk, token).update(status=status, last_error=error, **fields):
        log.warning(
            "outbox %s: attempt %s lost its claim; not recording: %s", message.pk, token, error
        )
        return Delivery("skipped")
    if status == OutboxMessage.Status.PENDING:
        log.warning(
            "outbox %s: attempt %s failed, retry in %s: %s",
            message.pk,
            message.attempts,
            retry_in,
            error,
        )
    else:
        log.error("outbox %s: %s: %s", message.pk, status, error)
    return Delivery(status, retry_in)


def outbox_deliver(*, message_id: int, now: datetime | None = None) -> Delivery:
    """Send one pending message through Django's e-mail backend and record the outcome
    (the steps and what survives a crash: this module's docstring).

    Call it outside a transaction (the task does): each step must commit on its own, so
    that a crash leaves behind what the attempt had reached.
    """
    now = now or timezone.now()
    token = _claim(message_id, now)
    if token is None:
        log.info("outbox %s: nothing to send (gone, sent, held, failed or in progress)", message_id)
        return Delivery("skipped")
    message = OutboxMessage.objects.get(pk=message_id)
    data_started = False

    def mark() -> None:
        nonlocal data_started
        _mark_data_started(message_id, token)
        data_started = True

    connection = None
    try:
        email = _email(message)
        connection = get_connection(fail_silently=False)
        connection.open()
        _before_data(connection, mark)
        if connection.send_messages([email]) != 1:
            raise smtplib.SMTPException("the e-mail backend accepted no message")
    except Exception as exc:  # noqa: BLE001 — every failure is recorded on the row
        if isinstance(exc, ClaimLost):
            log.warning("%s; the attempt stopped", exc)
            return Delivery("skipped")
        return _record_failure(message, token, exc, now, data_started=data_started)
    else:
        # The server said 250: record it before anything else (QUIT) can go wrong.
        if not _record_sent(message_id, token, now):
            # Only an operator moves a message this attempt claimed out of sending/held.
            log.error(
                "outbox %s: accepted by the server after an operator had decided on it "
                "(if released to be sent again, it may arrive twice)",
                message_id,
            )
        return Delivery(OutboxMessage.Status.SENT)
    finally:
        if connection is not None:
            _close_quietly(connection)
