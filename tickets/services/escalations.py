"""Breach flags and escalations, run by the every-minute job (``tickets.tasks``).

Each escalation level fires once per ticket and target: the ``Escalation`` row is
unique on (ticket, target, level), it is written under the ticket's row lock, and its
e-mail goes through the outbox with a dedupe key. Running the job twice sends nothing
new.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

from tickets.models import Escalation, Ticket
from tickets.notifications import escalation_recipients, notify_escalation
from tickets.services._common import (
    escalation_instants,
    fired_escalations,
    next_escalation,
    now_or,
)

log = logging.getLogger(__name__)


def tickets_refresh_breaches(*, now: datetime | None = None) -> int:
    """Flag every running clock whose deadline has passed; returns how many flags were
    set. (Stopping a clock settles its flag at once; this catches the ones nobody
    touched before their deadline.)"""
    now = now_or(now)
    running = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)
    response = running.filter(
        response_breached=False, responded_at__isnull=True, response_due_at__lt=now
    ).update(response_breached=True)
    resolution = running.filter(resolution_breached=False, resolution_due_at__lt=now).update(
        resolution_breached=True
    )
    return response + resolution


def _escalate_one(ticket_id: int, now: datetime) -> int:
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(skip_locked=True)
            .filter(pk=ticket_id, next_escalation_at__lte=now)
            .first()
        )
        if ticket is None:  # another worker has it, or someone acted on it meanwhile
            return 0
        fired = fired_escalations(ticket)
        sent = 0
        for target, level, instant in escalation_instants(ticket):
            if instant > now or (target, level) in fired:
                continue
            if target == Escalation.Target.RESPONSE:
                due = ticket.response_due_at
            else:
                due = ticket.resolution_due_at
            try:
                with transaction.atomic():
                    escalation = Escalation.objects.create(
                        ticket=ticket,
                        target=target,
                        level=level,
                        due_at=due,
                        created_at=now,
                        recipients=escalation_recipients(ticket, level),
                    )
            except IntegrityError:  # the unique row says it already fired
                fired.add((target, level))
                continue
            fired.add((target, level))
            notify_escalation(escalation)
            sent += 1
        ticket.next_escalation_at = next_escalation(ticket, fired)
        ticket.save(update_fields=["next_escalation_at"])
        return sent


def tickets_escalate(*, now: datetime | None = None) -> int:
    """Refresh the breach flags, then fire every escalation that has come due: at 75 %
    of a target the assignee (or every agent) is e-mailed, at breach the customer's
    account managers. Returns how many escalations fired."""
    now = now_or(now)
    tickets_refresh_breaches(now=now)
    due = list(
        Ticket.objects.filter(next_escalation_at__lte=now)
        .order_by("next_escalation_at")
        .values_list("pk", flat=True)
    )
    fired = sum(_escalate_one(ticket_id, now) for ticket_id in due)
    if fired:
        log.info("tickets: %s escalation(s) fired", fired)
    return fired
