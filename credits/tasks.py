"""Thin Celery tasks: plain arguments in, one service call, a count out."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task

from credits.services import credits_expire_on_termination

log = logging.getLogger(__name__)


@shared_task
def expire_credits_on_termination(today: str | None = None) -> int:
    """Daily: expire the balances of customers whose contracts have all terminated.

    ``today`` is an ISO date (JSON-serialisable) taken as every contract's date; by
    default each contract's date in its policy's zone now. The service is idempotent,
    so a second run the same day expires nothing.
    """
    day = date.fromisoformat(today) if today else None
    expired = credits_expire_on_termination(today=day)
    log.info("credits expired on termination: %s balance(s) as of %s", expired, day or "today")
    return expired
