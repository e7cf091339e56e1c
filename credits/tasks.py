"""Thin Celery tasks: plain arguments in, one service call, a count out."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from credits.services import credits_expire_on_termination

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
