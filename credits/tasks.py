"""Thin Celery tasks: plain arguments in, one service call, a count out."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.utils import timezone

from credits.services import credits_expire_on_termination

log = logging.getLogger(__name__)


@shared_task
def expire_credits_on_termination(today: str | None = None) -> int:
    """Daily: expire the balances of customers whose contracts have all terminated.

    ``today`` is an ISO date (JSON-serialisable); by default the current UTC date. The
    service is idempotent, so a second run the same day expires nothing.
    """
    day = date.fromisoformat(today) if today else timezone.now().date()
    expired = credits_expire_on_termination(today=day)
    log.info("credits expired on termination: %s balance(s) as of %s", expired, day)
    return expired
