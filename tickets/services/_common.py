"""Shared by the ticket services: who may act, row locks, input checks, and keeping a
ticket's stored clock columns equal to what ``tickets.clocks`` computes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from contracts.models import User
from tickets.clocks import SupportTerms, TicketClocks, compute_ticket_clocks
from tickets.models import Escalation, Ticket, TicketEvent
from tickets.selectors import is_support_staff, support_terms_for

CLOCK_FIELDS = [
    "response_target",
    "resolution_target",
    "response_due_at",
    "resolution_due_at",
    "response_at_risk_at",
    "resolution_at_risk_at",
    "response_breached",
    "resolution_breached",
    "next_due_at",
    "next_escalation_at",
    "updated_at",
]
SUBJECT_MAX = Ticket._meta.get_field("subject").max_length


def require_support_staff(actor: User | None, action: str) -> None:
    if not is_support_staff(actor):
        raise PermissionDenied(f"Only support staff may {action}.")


def require_party(actor: User | None, ticket: Ticket) -> None:
    """Support staff, or a person of the ticket's own customer."""
    if is_support_staff(actor):
        return
    if actor is None or not actor.customer_id or actor.customer_id != ticket.customer_id:
        # Pages and the API never get this far for a foreign ticket (it is a 404 there).
        raise PermissionDenied("This ticket belongs to another organisation.")


def clean_text(value: Any) -> str:
    return str(value or "").strip()


def parse_severity(value: Any) -> int | None:
    """1–4 from an int or a form's string; None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        severity = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return severity if 1 <= severity <= 4 else None


def check_subject(subject: str, errors: dict[str, list[str]]) -> None:
    if not subject:
        errors["subject"] = ["Give the ticket a subject."]
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = [f"Keep the subject within {SUBJECT_MAX} characters."]


def now_or(now: datetime | None) -> datetime:
    if now is not None and timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    return now or timezone.now()


def locked(ticket: Ticket) -> Ticket:
    """The ticket row, locked until the transaction ends: two agents acting at once on
    one ticket run one after the other (one first response, one status change)."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


@contextmanager
def atomic_with_files() -> Iterator[list[str]]:
    """A transaction that also removes the files saved inside it if it rolls back.

    Storage is not transactional: the list it yields collects stored file names, and
    refused input leaves no orphan file behind.
    """
    stored: list[str] = []
    try:
        with transaction.atomic():
            yield stored
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


def record_event(ticket: Ticket, kind: str, *, actor: User | None, now: datetime, **fields):
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor, created_at=now, **fields
    )


# ---------------------------------------------------------------- clocks


def escalation_instants(ticket: Ticket) -> list[tuple[str, str, datetime]]:
    """(target, level, instant) of each escalation a running clock has stored.

    A clock runs until it stops: the response clock at the first public staff reply or
    at resolution, the resolution clock at resolution. An instant stored while the
    ticket waits on the customer was reached before the pause began, so it counts.
    """
    done = ticket.status in Ticket.DONE_STATUSES
    instants = []
    if not done and ticket.responded_at is None:
        instants += [
            (Escalation.Target.RESPONSE, Escalation.Level.AT_RISK, ticket.response_at_risk_at),
            (Escalation.Target.RESPONSE, Escalation.Level.BREACH, ticket.response_due_at),
        ]
    if not done:
        instants += [
            (Escalation.Target.RESOLUTION, Escalation.Level.AT_RISK, ticket.resolution_at_risk_at),
            (Escalation.Target.RESOLUTION, Escalation.Level.BREACH, ticket.resolution_due_at),
        ]
    return [(target, level, at) for target, level, at in instants if at is not None]


def next_escalation(ticket: Ticket, fired: set[tuple[str, str]]) -> datetime | None:
    pending = [
        at for target, level, at in escalation_instants(ticket) if (target, level) not in fired
    ]
    return min(pending, default=None)


def fired_escalations(ticket: Ticket) -> set[tuple[str, str]]:
    if ticket.pk is None:
        return set()
    return set(Escalation.objects.filter(ticket=ticket).values_list("target", "level"))


def sync_clocks(
    ticket: Ticket,
    *,
    now: datetime,
    terms: SupportTerms | None = None,
    new: bool = False,
) -> TicketClocks:
    """Recompute the ticket's stored clock columns (the caller saves ``CLOCK_FIELDS``).

    Always from the receipt, under the current severity, with every pause so far: the
    same computation serves filing, replies, pauses, resolution and reclassification.
    ``new`` skips the queries a ticket not yet saved cannot need.
    """
    if terms is None:
        terms = support_terms_for(ticket.contract)
    pauses = [] if new else list(ticket.pauses.values_list("started_at", "ended_at"))
    done = ticket.status in Ticket.DONE_STATUSES
    clocks = compute_ticket_clocks(
        terms=terms,
        severity=ticket.severity,
        received_at=ticket.received_at,
        pauses=pauses,
        responded_at=ticket.responded_at,
        resolved_at=ticket.resolved_at if done else None,
        now=now,
    )
    response, resolution = clocks.response, clocks.resolution
    ticket.response_target = response.target
    ticket.resolution_target = resolution.target
    ticket.response_due_at = response.due_at
    ticket.resolution_due_at = resolution.due_at
    ticket.response_at_risk_at = response.at_risk_at
    ticket.resolution_at_risk_at = resolution.at_risk_at
    ticket.response_breached = response.breached
    ticket.resolution_breached = resolution.breached
    running = [c.due_at for c in (response, resolution) if c.stopped_at is None and c.due_at]
    ticket.next_due_at = min(running, default=None)
    ticket.next_escalation_at = next_escalation(ticket, set() if new else fired_escalations(ticket))
    return clocks


def save_clocks(ticket: Ticket, *, now: datetime, extra: tuple[str, ...] = ()) -> TicketClocks:
    clocks = sync_clocks(ticket, now=now)
    ticket.save(update_fields=[*CLOCK_FIELDS, *extra])
    return clocks
