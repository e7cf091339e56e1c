"""After a crash: the periodic re-dispatch of lost sends, the takeover of messages left
``sending`` by a dead attempt, and an operator's decision on a held message.

Why a message is held rather than sent again, and the window that leaves to an operator:
``outbox.services.email``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.utils import timezone

from outbox.models import OutboxMessage
from outbox.services.email import OVERDUE_AFTER, _dispatch
from slaportal import roles
from slaportal.transactions import after_commit

log = logging.getLogger(__name__)


def sending_timeout() -> timedelta:
    """How long a claim lasts before reconciliation takes it over. Longer than Celery's
    hard time limit (300 s), which kills a send that overruns it: an older claim belongs
    to a dead attempt. (A live one is fenced off anyway: its DATA mark finds the claim
    gone.)"""
    return timedelta(seconds=getattr(settings, "OUTBOX_SENDING_TIMEOUT_SECONDS", 600))


@dataclass
class Reconciled:
    """Ids of the stuck messages taken over: to send again, held, failed for good."""

    resend: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def outbox_reconcile(*, now: datetime | None = None) -> Reconciled:
    """Take over the messages whose attempt claimed them longer than the timeout ago.

    One that never reached DATA goes back to pending (the caller dispatches it); one that
    did is held for an operator. Each takeover is a conditional UPDATE on the attempt's
    token, and on ``data_started_at`` still being empty for a resend: an attempt that is
    slow rather than dead and marks DATA at this moment makes the resend update nothing
    (it is held on the next run), and once the resend has won, that attempt's own DATA
    mark updates nothing and it stops before DATA.
    """
    now = now or timezone.now()
    stuck = (
        OutboxMessage.objects.filter(
            status=OutboxMessage.Status.SENDING, claimed_at__lte=now - sending_timeout()
        )
        .order_by("claimed_at")
        .values_list("pk", "claimed_by", "claimed_at", "data_started_at", "attempts")
    )
    done = Reconciled()
    for pk, token, claimed_at, data_started_at, attempts in stuck[:1000]:
        mine = OutboxMessage.objects.filter(
            pk=pk, claimed_by=token, status=OutboxMessage.Status.SENDING
        )
        if data_started_at is not None:
            if mine.update(
                status=OutboxMessage.Status.HELD,
                last_error=f"The attempt claimed at {claimed_at:%Y-%m-%d %H:%M:%S} UTC stopped "
                "after handing the message to the SMTP server: it may have been delivered. "
                "Held for an operator: confirm it delivered, or release it to send again.",
            ):
                log.error("outbox %s: stuck after DATA, held for an operator", pk)
                done.held.append(pk)
            continue
        before_data = mine.filter(data_started_at__isnull=True)
        lost = f"The attempt claimed at {claimed_at:%Y-%m-%d %H:%M:%S} UTC stopped before DATA"
        if attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            if before_data.update(status=OutboxMessage.Status.FAILED, last_error=f"{lost}."):
                log.error("outbox %s: stuck before DATA after its last attempt, failed", pk)
                done.failed.append(pk)
        elif before_data.update(
            status=OutboxMessage.Status.PENDING,
            next_attempt_at=now,
            last_error=f"{lost}: sent again.",
        ):
            log.warning("outbox %s: stuck before DATA, sent again", pk)
            done.resend.append(pk)
    return done


def outbox_dispatch_overdue(*, now: datetime | None = None) -> int:
    """Reconcile the stuck messages, then dispatch the send task for those to send again
    and for pending messages whose own task is overdue; returns how many it dispatched."""
    now = now or timezone.now()
    reconciled = outbox_reconcile(now=now)
    overdue = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now - OVERDUE_AFTER
    ).order_by("next_attempt_at")
    ids = list(dict.fromkeys([*reconciled.resend, *overdue.values_list("pk", flat=True)[:1000]]))
    for message_id in ids:
        _dispatch(message_id)
    return len(ids)


def _held(message_id: int, actor) -> OutboxMessage:
    if not roles.has_role(actor, roles.ADMIN):
        raise PermissionDenied("Only administrators decide on held e-mail.")
    message = OutboxMessage.objects.filter(pk=message_id).first()
    if message is None or message.status != OutboxMessage.Status.HELD:
        raise ValidationError("Only a held message can be confirmed or released.")
    return message


def outbox_confirm_delivered(
    *, message_id: int, actor, now: datetime | None = None
) -> OutboxMessage:
    """An administrator found the held message accepted (the mail server's log, by its
    Message-ID): it is sent, as of when it was handed over."""
    now = now or timezone.now()
    message = _held(message_id, actor)
    if not OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.HELD).update(
        status=OutboxMessage.Status.SENT,
        sent_at=F("data_started_at"),
        last_error=f"Confirmed delivered by {actor} at {now:%Y-%m-%d %H:%M} UTC.",
    ):
        raise ValidationError("The message is no longer held.")
    log.info("outbox %s: confirmed delivered by %s", message.pk, actor)
    message.refresh_from_db()
    return message


def outbox_release(*, message_id: int, actor, now: datetime | None = None) -> OutboxMessage:
    """An administrator found the held message not accepted: it is sent again, with the
    same Message-ID (a receiver that got it after all can drop the copy)."""
    now = now or timezone.now()
    message = _held(message_id, actor)
    if not OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.HELD).update(
        status=OutboxMessage.Status.PENDING,
        next_attempt_at=now,
        last_error=f"Released to be sent again by {actor} at {now:%Y-%m-%d %H:%M} UTC.",
    ):
        raise ValidationError("The message is no longer held.")
    log.warning("outbox %s: released by %s, sending again", message.pk, actor)
    after_commit(_dispatch, message.pk)
    message.refresh_from_db()
    return message
