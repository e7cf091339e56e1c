"""Thin Celery tasks: plain arguments in, one service call, a count or an outcome out.
Named apart from the services they call."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from credits.services import (
    credit_note_deliver,
    credit_notes_deliver_owed,
    credits_apply_owed,
    credits_expire_on_termination,
)

log = logging.getLogger(__name__)


@shared_task
def expire_credits_on_termination() -> int:
    """Hourly: expire the balances of customers whose contracts have all terminated.

    Each termination day ends at local midnight in its policy's zone, so the service is
    given the instant, not a date. It is idempotent: a second run expires nothing.
    """
    now = timezone.now()
    expired = credits_expire_on_termination(now=now)
    log.info("credits expired on termination: %s balance(s) at %s", expired, now.isoformat())
    return expired


@shared_task
def credit_note_deliver_task(note_id: int) -> str:
    """After a note's commit: store its PDF and queue its e-mail (each once)."""
    outcome = credit_note_deliver(note_id=note_id)
    log.info("credit note %s: %s", note_id, outcome)
    return outcome


@shared_task
def credit_notes_deliver_owed_task() -> int:
    """Hourly: deliver the notes whose own task was lost."""
    return credit_notes_deliver_owed()


@shared_task
def credits_apply_owed_task() -> int:
    """Hourly: apply approved credits waiting where an open invoice now exists."""
    issued = credits_apply_owed()
    log.info("credits applied by the sweep: %s credit note(s)", issued)
    return issued
