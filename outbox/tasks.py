"""Thin Celery tasks: send one queued e-mail or webhook delivery; re-dispatch the overdue
ones."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from outbox.services import (
    outbox_deliver,
    outbox_dispatch_overdue,
    webhook_deliver,
    webhook_dispatch_overdue,
)

log = logging.getLogger(__name__)


# The database restarting: retried with backoff. A retry of an attempt that had already
# claimed the message finds it "sending" and skips it; outbox_flush's reconciliation then
# takes the row over, and never sends again one that had reached DATA
# (outbox.services.email).
@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
)
def outbox_send(message_id: int) -> str:
    """Send one outbox message (idempotent: a sent or failed message is left alone).

    A temporary failure schedules the next attempt after its backoff. Not in eager
    mode, where a countdown is ignored and the retry would run at once: there the
    message stays pending for ``outbox_flush`` to retry.
    """
    delivery = outbox_deliver(message_id=message_id)
    if delivery.retry_in is not None and not outbox_send.app.conf.task_always_eager:
        outbox_send.apply_async(args=[message_id], countdown=delivery.retry_in.total_seconds())
    return delivery.status


@shared_task
def outbox_flush() -> int:
    """Every few minutes: take over the messages a dead attempt left "sending" (sent
    again if it stopped before DATA, held for an operator after), and dispatch again the
    pending messages whose task was lost."""
    dispatched = outbox_dispatch_overdue()
    if dispatched:
        log.info("outbox: re-dispatched %s overdue message(s)", dispatched)
    return dispatched


# Retried like outbox_send; the delivery is claimed under a row lock and marked delivered
# in that transaction, so a retry finds it delivered.
@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
)
def webhook_send(delivery_id: int) -> str:
    """POST one webhook delivery (idempotent: a delivered or failed one is left alone).

    A failed attempt schedules the next after its backoff; in eager mode the countdown
    would be ignored, so there ``webhook_flush`` sends the retry once it is due.
    """
    result = webhook_deliver(delivery_id=delivery_id)
    if result.retry_in is not None and not webhook_send.app.conf.task_always_eager:
        webhook_send.apply_async(args=[delivery_id], countdown=result.retry_in.total_seconds())
    return result.status


@shared_task
def webhook_flush() -> int:
    """Every few minutes: dispatch the pending deliveries that are due (lost tasks)."""
    dispatched = webhook_dispatch_overdue()
    if dispatched:
        log.info("webhooks: re-dispatched %s due delivery(ies)", dispatched)
    return dispatched
