"""Thin Celery tasks: one service call each."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from tickets.mailbox import MailboxUnavailable, mailbox_fetch
from tickets.services import tickets_escalate

log = logging.getLogger(__name__)


@shared_task
def escalate_tickets() -> int:
    """Every minute: flag breaches and send the escalations that have come due. Each
    level fires once per ticket and target, so a second run sends nothing new."""
    return tickets_escalate()


@shared_task
def fetch_email() -> dict[str, int] | None:
    """Every minute, when ``IMAP_URL`` is set: take in the mail waiting in the mailbox
    (``tickets.mailbox``). A message leaves the inbox only once it is taken in or
    refused, so a second run takes in nothing new; an unreachable mailbox is tried again
    at the next tick. No new message is started after 50 s, so a run ends before the
    next tick starts another over the same mailbox."""
    if not settings.IMAP_URL:
        return None
    try:
        return mailbox_fetch(budget_seconds=50).as_dict()
    except MailboxUnavailable as exc:
        log.error("inbound mail not fetched (%s); the next tick tries again", exc)
        return None
