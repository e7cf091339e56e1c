"""Thin Celery tasks: one service call each."""

from __future__ import annotations

import logging

from celery import shared_task

from tickets.services import tickets_escalate

log = logging.getLogger(__name__)


@shared_task
def escalate_tickets() -> int:
    """Every minute: flag breaches and send the escalations that have come due. Each
    level fires once per ticket and target, so a second run sends nothing new."""
    return tickets_escalate()
