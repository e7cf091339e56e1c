"""Thin Celery tasks: fan out one public update in batches, and the sweep that finds the
updates whose fan-out is owed (``status.notify``)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from status.notify import update_fanout_batch, updates_fanout_owed

log = logging.getLogger(__name__)


# A database restart is retried; a retry queues nothing twice (the dedupe keys).
@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
)
def fanout_update_task(update_id: int, after: int = 0) -> int:
    """Queue one batch of an update's e-mails and dispatch the next batch, if any; what
    this batch queued. Its transaction has committed when it returns, so the next batch
    starts from what is stored."""
    batch = update_fanout_batch(update_id=update_id, after=after)
    if batch.next_after is not None:
        fanout_update_task.delay(update_id, batch.next_after)
    return batch.queued


@shared_task
def fanout_sweep_task() -> int:
    """Every 5 minutes: fan out the eligible updates that have not been (a lost task, a
    maintenance update whose announcement time has come, an alert's outage confirmed)."""
    owed = updates_fanout_owed()
    for update_id in owed:
        fanout_update_task.delay(update_id)
    if owed:
        log.info("status: fan-out dispatched for %s update(s)", len(owed))
    return len(owed)


def fanout_dispatch(update_id: int) -> None:
    """After an update's transaction commits (``status.apps``): its first batch."""
    fanout_update_task.delay(update_id)
