"""Thin Celery tasks: send one queued e-mail; re-dispatch the overdue ones."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from outbox.services import outbox_deliver, outbox_dispatch_overdue

log = logging.getLogger(__name__)


# The database restarting: retried with backoff. The message is claimed under a row lock
# and marked sent in that transaction, so a retry finds it sent; only a restart between
# the SMTP server's "250" and that commit could send it twice.
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
    """Every few minutes: dispatch again the pending messages whose task was lost."""
    dispatched = outbox_dispatch_overdue()
    if dispatched:
        log.info("outbox: re-dispatched %s overdue message(s)", dispatched)
    return dispatched
