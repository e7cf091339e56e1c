"""Reads: support terms as the clocks take them, who may see which tickets, the agent
queue with its sorts, the customer list, and clock states for display. (The desk's
search: ``tickets.search``.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import F, Q, QuerySet

from contracts.models import Calendar, Contract, Customer, Service, SeverityTerm, User
from contracts.selectors import business_calendar_for
from slaportal import roles
from tickets.clocks import (
    NO_TERMS,
    STATE_LABELS,
    SeverityTargets,
    SupportTerms,
    Target,
    TicketClocks,
    clock_state,
    compute_ticket_clocks,
)
from tickets.models import Ticket, TicketMessage

SUPPORT_ROLES = (roles.AGENT, roles.ADMIN)


def is_support_staff(user: User | None) -> bool:
    """Agents and administrators work tickets (reply, note, reclassify, assign, log)."""
    return user is not None and any(roles.has_role(user, role) for role in SUPPORT_ROLES)


# ---------------------------------------------------------------- support terms


def _targets(term: SeverityTerm) -> SeverityTargets:
    return SeverityTargets(
        severity=term.severity,
        around_the_clock=term.around_the_clock,
        response=Target(term.response_value, term.response_unit),
        resolution=Target(term.resolution_value, term.resolution_unit),
        name=term.name,
        description=term.description,
    )


def severity_terms_for(contract: Contract) -> dict[int, SeverityTerm]:
    """The severity definitions in force for a contract: the contract's own (an order
    form's support terms) where it has them, the policy's otherwise."""
    terms = {t.severity: t for t in contract.policy.severities.all()}
    terms.update({t.severity: t for t in contract.severities.all()})
    return dict(sorted(terms.items()))


def support_terms_for(contract: Contract | None) -> SupportTerms:
    """A contract's support terms for ``tickets.clocks``.

    The contract's support calendar overrides the policy's; with neither (an order form
    that set targets but no hours) support runs around the clock. No contract (mail from
    a sender nobody could place): no targets.
    """
    if contract is None:
        return NO_TERMS
    calendar = support_calendar_of(contract)
    return SupportTerms(
        calendar=business_calendar_for(calendar) if calendar is not None else None,
        severities={s: _targets(t) for s, t in severity_terms_for(contract).items()},
    )


@dataclass(frozen=True)
class SeverityOption:
    severity: int
    name: str
    description: str


def severity_options(contract: Contract | None) -> list[SeverityOption]:
    """Severities 1–4 with the contract's own words, for the filing form."""
    terms = severity_terms_for(contract) if contract is not None else {}
    return [
        SeverityOption(
            s,
            terms[s].name if s in terms else f"Severity {s}",
            terms[s].description if s in terms else "",
        )
        for s in (1, 2, 3, 4)
    ]


def contracts_in_force(customer: Customer, *, on: date) -> QuerySet[Contract]:
    """The customer's contracts in force on ``on`` (a date in the customer's zone); the
    termination day is still in force."""
    return customer.contracts.in_force_on(on)


def active_contract(customer: Customer, service=None, *, on: date) -> Contract | None:
    """The customer's contract in force on ``on`` that covers ``service`` (any service
    when None); the most recently started one when several do."""
    contracts = contracts_in_force(customer, on=on)
    if service is not None:
        contracts = contracts.filter(lines__service=service)
    return contracts.select_related("policy").order_by("-start_date", "-pk").first()


def services_in_force(customer: Customer, *, on: date) -> QuerySet[Service]:
    """The services a customer may file a ticket about on ``on``: those of its contracts
    in force."""
    contracts = contracts_in_force(customer, on=on)
    return (
        Service.objects.filter(contract_lines__contract__in=contracts).distinct().order_by("name")
    )


def customer_services(customer: Customer) -> QuerySet[Service]:
    """Every service any of the customer's contracts ever covered (the list's filter)."""
    return (
        Service.objects.filter(contract_lines__contract__customer=customer)
        .distinct()
        .order_by("name")
    )


def support_calendar_of(contract: Contract | None) -> Calendar | None:
    """The calendar a contract's ticket clocks run on (None: around the clock)."""
    if contract is None:
        return None
    return contract.support_calendar or contract.policy.support_calendar


def support_staff() -> QuerySet[User]:
    """Active people who may be given tickets (agents and administrators)."""
    return (
        User.objects.filter(is_active=True, customer__isnull=True)
        .filter(Q(groups__name__in=SUPPORT_ROLES) | Q(is_superuser=True))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


# ---------------------------------------------------------------- who sees what


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    """The one tenant rule for tickets: support staff see every ticket, customer people
    their own organisation's, account managers (to read only: escalations send them to
    the desk's page) the tickets of the customers they manage, anyone else none. Pages
    and API start from this queryset, so another customer's ticket is simply not found
    (a 404); the services keep every change to support staff and the customer."""
    if user.is_authenticated and user.customer_id:
        return Ticket.objects.filter(customer_id=user.customer_id)
    if is_support_staff(user):
        return Ticket.objects.all()
    if roles.has_role(user, roles.ACCOUNT_MANAGER):
        return Ticket.objects.filter(customer__account_managers=user)
    return Ticket.objects.none()


def messages_visible_to(ticket: Ticket, user: User) -> QuerySet[TicketMessage]:
    """The thread as ``user`` may read it: internal notes are for support staff only."""
    messages = ticket.messages.select_related("author").prefetch_related("attachments")
    return messages if is_support_staff(user) else messages.filter(public=True)


def agent_queue(statuses: tuple[str, ...] = Ticket.OPEN_STATUSES) -> QuerySet[Ticket]:
    """Open tickets (or some open statuses), nearest running deadline first (breached
    ones, whose deadline has passed, on top); tickets with no running deadline last.

    Served by ``ticket_open_queue_idx`` (every open status) or ``ticket_status_due_idx``
    (one). The statuses are filtered once: a second ``status IN`` made PostgreSQL count
    the rows twice as rare and pick a plan that read the whole queue for page 50."""
    return (
        Ticket.objects.filter(status__in=statuses)
        .select_related("customer", "service", "assignee")
        .order_by(F("next_due_at").asc(nulls_last=True), "id")
    )


NAMED_CUSTOMERS_LISTED = 1000  # beyond, the desk's search joins the customers instead


def customer_ids_named(text: str) -> list[int] | QuerySet[Customer]:
    """The customers whose name contains ``text`` (any case), for the desk's search.

    Their ids, found first (a trigram index on the names on PostgreSQL), rather than a
    join on the name: given the join, PostgreSQL guessed that one customer matched and
    read every ticket of each one it found, 3.9–5.0 s at 2,000 customers; given the ids
    it reads the queue in order. A search that finds over 1,000 customers stays a join.
    """
    named = Customer.objects.filter(name__icontains=text).values_list("pk", flat=True)
    ids = list(named[: NAMED_CUSTOMERS_LISTED + 1])
    return named if len(ids) > NAMED_CUSTOMERS_LISTED else ids


# ---------------------------------------------------------------- the desk's sorts

DUE = F("next_due_at").asc(nulls_last=True)
# Each sort's columns, ahead of the list's own order: nearest deadline for open tickets,
# newest first for the rest. Each order is an index's (tickets/migrations/0006 and
# ``Ticket.Meta``), read in order: tests/slaportal/test_list_indexes.py checks the plans.
DESK_SORTS = {
    "due": "Deadline",
    "severity": "Severity",
    "customer": "Customer",
    "newest": "Newest",
    "oldest": "Oldest",
    "updated": "Last update",
}
WHOLE_ORDERS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "updated": ("-updated_at", "-id"),
}


def desk_queue(statuses: tuple[str, ...] | None, sort: str = "due") -> QuerySet[Ticket]:
    """The desk's tickets of ``statuses`` (None: any) in the order ``sort`` names.

    By deadline (the default): open tickets nearest deadline first (``agent_queue``);
    resolved or closed ones newest first; any status: the open ones by deadline, then
    the rest (no deadline runs on them) newest first. By severity or customer: those
    first, then the list's own order within each. The customer sort leaves out the
    tickets of no customer (mail nobody could place): ordering by a name across an outer
    join would sort the whole table; the other orders list them.
    """
    open_only = statuses is not None and set(statuses) <= set(Ticket.OPEN_STATUSES)
    if open_only:
        tickets = agent_queue(statuses)
        ties: tuple = (DUE, "id")
    else:
        tickets = Ticket.objects.select_related("customer", "service", "assignee")
        if statuses is not None:
            tickets = tickets.filter(status__in=statuses)
            ties = ("-created_at", "-id")
        else:
            ties = (DUE, "-created_at", "-id")
    if sort in WHOLE_ORDERS:
        return tickets.order_by(*WHOLE_ORDERS[sort])
    if sort == "severity":
        return tickets.order_by("severity", *(ties if open_only else ("-created_at", "-id")))
    if sort == "customer":
        # A filter on the name makes the join an inner one, which PostgreSQL can read
        # customer by customer in name order.
        tickets = tickets.filter(customer__name__isnull=False)
        return tickets.order_by("customer__name", *(ties if open_only else ("-created_at", "-id")))
    return tickets.order_by(*ties)


def customer_tickets(customer: Customer) -> QuerySet[Ticket]:
    """A customer's tickets, newest first (``ticket_customer_list_idx``)."""
    return (
        Ticket.objects.filter(customer=customer)
        .select_related("service", "assignee")
        .order_by("-created_at", "-id")
    )


# ---------------------------------------------------------------- clocks for display


@dataclass(frozen=True)
class ClockStates:
    response: str
    resolution: str

    @property
    def response_label(self) -> str:
        return STATE_LABELS[self.response]

    @property
    def resolution_label(self) -> str:
        return STATE_LABELS[self.resolution]


def ticket_states(ticket: Ticket, now: datetime) -> ClockStates:
    """Both clock states from the ticket's stored columns: no query, fit for list pages."""
    done = ticket.status in Ticket.DONE_STATUSES
    paused = ticket.status == Ticket.Status.WAITING
    resolved_at = ticket.resolved_at if done else None
    stops = [t for t in (ticket.responded_at, resolved_at) if t is not None]
    response = clock_state(
        has_target=ticket.response_target is not None,
        due_at=ticket.response_due_at,
        at_risk_at=ticket.response_at_risk_at,
        stopped_at=min(stops, default=None),
        paused=paused,
        now=now,
    )
    resolution = clock_state(
        has_target=ticket.resolution_target is not None,
        due_at=ticket.resolution_due_at,
        at_risk_at=ticket.resolution_at_risk_at,
        stopped_at=resolved_at,
        paused=paused,
        now=now,
    )
    return ClockStates(response, resolution)


def ticket_clocks(
    ticket: Ticket, now: datetime, *, terms: SupportTerms | None = None
) -> TicketClocks:
    """Both clocks in full (business time used and left) for one ticket's page."""
    if terms is None:
        terms = support_terms_for(ticket.contract)
    return compute_ticket_clocks(
        terms=terms,
        severity=ticket.severity,
        received_at=ticket.received_at,
        pauses=[(p.started_at, p.ended_at) for p in ticket.pauses.all()],
        responded_at=ticket.responded_at,
        resolved_at=ticket.resolved_at if ticket.status in Ticket.DONE_STATUSES else None,
        now=now,
    )
