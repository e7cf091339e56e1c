"""Status, severity and assignment: the agent's workflow, and the customer's resolve
and reopen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.services import audit_record
from contracts.models import User
from tickets.models import Ticket, TicketEvent, TicketPause
from tickets.notifications import notify_reclassified, notify_status_change
from tickets.selectors import is_support_staff
from tickets.services._common import (
    clean_text,
    locked,
    now_or,
    parse_severity,
    record_event,
    require_party,
    require_support_staff,
    save_clocks,
)

STATUS_LABELS = dict(Ticket.Status.choices)


def change_status(
    ticket: Ticket,
    status: str,
    *,
    actor: User | None,
    now: datetime,
    notify: bool,
    extra: tuple[str, ...] = (),
) -> TicketEvent | None:
    """Move a locked ticket to ``status`` with the pauses and stops that implies, save it
    with its clocks (and the ``extra`` fields the caller changed), record the event.

    - entering ``waiting_on_customer`` opens a pause of both clocks; leaving it ends it;
    - entering ``resolved``/``closed`` stops the clocks (``resolved_at``);
    - reopening turns the time spent resolved into a pause, so a reopened ticket's
      clocks go on from where they stopped.
    """
    old = ticket.status
    if status == old:
        if extra:
            save_clocks(ticket, now=now, extra=extra)
        return None
    if old == Ticket.Status.WAITING:
        TicketPause.objects.filter(ticket=ticket, ended_at__isnull=True).update(ended_at=now)
    if status == Ticket.Status.WAITING:
        TicketPause.objects.create(ticket=ticket, kind=TicketPause.Kind.WAITING, started_at=now)
    done = Ticket.DONE_STATUSES
    if old in done and status not in done:
        TicketPause.objects.create(
            ticket=ticket,
            kind=TicketPause.Kind.RESOLVED,
            started_at=ticket.resolved_at,
            ended_at=now,
        )
        ticket.resolved_at = None
        ticket.closed_at = None
    if old not in done and status in done:
        ticket.resolved_at = now
    if status == Ticket.Status.CLOSED:
        ticket.closed_at = now
    ticket.status = status
    save_clocks(ticket, now=now, extra=("status", "resolved_at", "closed_at", *extra))
    event = record_event(
        ticket,
        TicketEvent.Kind.STATUS_CHANGED,
        actor=actor,
        now=now,
        from_status=old,
        to_status=status,
    )
    if notify:
        notify_status_change(event)
    return event


def ticket_set_status(
    *, ticket: Ticket, status: str, actor: User, now: datetime | None = None
) -> Ticket:
    """Change a ticket's status; returns the updated ticket.

    Support staff may set any status but ``new``. A customer person may mark their
    ticket resolved, or reopen a resolved one (``open``); anything else raises
    ``PermissionDenied``. A closed ticket is final. The same status again changes
    nothing. The customer is e-mailed unless they made the change themselves.
    """
    now = now_or(now)
    require_party(actor, ticket)
    if status not in Ticket.Status.values:
        raise ValidationError({"status": [f"{status!r} is not a ticket status."]})
    staff = is_support_staff(actor)
    with transaction.atomic():
        ticket = locked(ticket)
        old = ticket.status
        if old == Ticket.Status.CLOSED:
            raise ValidationError({"status": ["This ticket is closed; its status is final."]})
        if status == old:
            return ticket
        if status == Ticket.Status.NEW:
            raise ValidationError({"status": ["A ticket cannot go back to new."]})
        if not staff:
            resolving = status == Ticket.Status.RESOLVED and old in Ticket.OPEN_STATUSES
            reopening = status == Ticket.Status.OPEN and old == Ticket.Status.RESOLVED
            if not (resolving or reopening):
                raise PermissionDenied("You can mark a ticket resolved, or reopen it.")
        notify = actor is None or actor.pk != ticket.requester_id
        change_status(ticket, status, actor=actor, now=now, notify=notify)
    return ticket


def ticket_reclassify(
    *, ticket: Ticket, severity: Any, reason: str, actor: User, now: datetime | None = None
) -> Ticket:
    """Support staff give the ticket a new severity, with the reason (kept in its
    history). The targets are then measured from receipt under the new severity, so
    3 → 1 may find the new response target already breached."""
    now = now_or(now)
    require_support_staff(actor, "reclassify tickets")
    errors: dict[str, list[str]] = {}
    level = parse_severity(severity)
    reason = clean_text(reason)
    if level is None:
        errors["severity"] = ["Choose a severity from 1 to 4."]
    if not reason:
        errors["reason"] = ["Give the reason for the new severity."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ticket = locked(ticket)
        if ticket.status == Ticket.Status.CLOSED:
            raise ValidationError({"severity": ["A closed ticket cannot be reclassified."]})
        if level == ticket.severity:
            raise ValidationError({"severity": [f"The ticket is already severity {level}."]})
        old = ticket.severity
        ticket.severity = level
        save_clocks(ticket, now=now, extra=("severity",))
        event = record_event(
            ticket,
            TicketEvent.Kind.RECLASSIFIED,
            actor=actor,
            now=now,
            from_severity=old,
            to_severity=level,
            reason=reason,
        )
        audit_record(
            actor=actor,
            action="ticket.reclassify",
            obj=ticket,
            changes={"severity": {"before": old, "after": level}},
            reason=reason,
        )
        notify_reclassified(event)
    return ticket


def ticket_assign(
    *, ticket: Ticket, assignee: User | None, actor: User, now: datetime | None = None
) -> Ticket:
    """Support staff give the ticket to an agent (``None`` puts it back to everyone)."""
    now = now_or(now)
    require_support_staff(actor, "assign tickets")
    if assignee is not None and not (assignee.is_active and is_support_staff(assignee)):
        raise ValidationError({"assignee": [f"{assignee} is not an active support agent."]})
    with transaction.atomic():
        ticket = locked(ticket)
        if ticket.status == Ticket.Status.CLOSED:
            raise ValidationError({"assignee": ["A closed ticket cannot be reassigned."]})
        if ticket.assignee_id == (assignee.pk if assignee else None):
            return ticket
        ticket.assignee = assignee
        ticket.save(update_fields=["assignee", "updated_at"])
        record_event(ticket, TicketEvent.Kind.ASSIGNED, actor=actor, now=now, assignee=assignee)
    return ticket


def ticket_take(*, ticket: Ticket, actor: User, now: datetime | None = None) -> Ticket:
    """An agent takes the ticket: assigned to them, and a new ticket becomes open."""
    now = now_or(now)
    with transaction.atomic():
        ticket = ticket_assign(ticket=ticket, assignee=actor, actor=actor, now=now)
        if ticket.status == Ticket.Status.NEW:
            change_status(ticket, Ticket.Status.OPEN, actor=actor, now=now, notify=False)
    return ticket
