"""Reads: statements, what a month's run still has to do, and the support figures a
statement reports.

Support attainment (``support_attainment``) counts, per severity, the contract's
tickets *received* in the statement month — ``received_at`` inside the month's bounds
in the policy's zone, the instant the SLA clocks start (a phone ticket logged the next
morning belongs to the month it reached us) — under their current severity (a
reclassified ticket is measured under its new targets, as the clocks are). For each of
the response and resolution clocks a ticket is, at the moment the statement is
generated:

* ``met`` — stopped (first public staff reply; resolution) no later than its deadline;
* ``breached`` — stopped after its deadline, or still running past it;
* ``open`` — still running and not yet due (its outcome belongs to no statement);
* ``no_target`` — the terms set no target for that severity.

Attainment = met / (met + breached); none when both are zero. Tickets from senders
nobody could place under a contract belong to no statement.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from contracts.models import Contract, Customer, SeverityTerm, User
from credits.models import Credit
from outages.models import ReissueRequest
from outbox.models import OutboxMessage
from slaportal import authority
from slaportal.months import month_bounds, month_days, month_of
from statements.models import UNDELIVERED, Statement, StatementCredit, StatementRunItem
from tickets.clocks import BREACHED, MET, NO_TARGET, Target
from tickets.models import Ticket
from tickets.selectors import severity_terms_for, ticket_states

# How far back the hourly tick looks for a month that was missed (scheduler down).
CATCH_UP_MONTHS = 3
# A claimed item no worker has finished after this long was lost (a worker killed
# between claim and ack): the next tick plans the contract-month again.
CLAIM_EXPIRES = timedelta(hours=1)


def current_statement(contract: Contract, month: date) -> Statement | None:
    """The month's statement that is not superseded (a draft or the issued one)."""
    return (
        Statement.objects.filter(contract=contract, month=month.replace(day=1))
        .exclude(status=Statement.Status.SUPERSEDED)
        .first()
    )


def statements_for_customer(customer: Customer) -> QuerySet[Statement]:
    """What a customer may see: their issued and superseded statements (never a draft)."""
    return (
        Statement.objects.filter(contract__customer=customer)
        .exclude(status=Statement.Status.DRAFT)
        .select_related("contract")
        .order_by("-month", "contract__reference", "-revision")
    )


def statements_for_staff() -> QuerySet[Statement]:
    return Statement.objects.select_related("contract__customer", "supersedes").order_by(
        "-month", "contract__reference", "-revision"
    )


def statement_credits(statement: Statement) -> list[Credit]:
    """The statement's credits with their current decision, by service name."""
    ids = StatementCredit.objects.filter(statement=statement).values("credit_id")
    return list(
        Credit.objects.filter(pk__in=ids).select_related("service").order_by("service__name")
    )


def awaiting_decision(statement: Statement) -> bool:
    """Whether a credit on the statement still waits for an account manager."""
    ids = StatementCredit.objects.filter(statement=statement).values("credit_id")
    return Credit.objects.filter(pk__in=ids, status=Credit.Status.PENDING).exists()


def undelivered_statements() -> QuerySet[Statement]:
    """Statements owed their PDF or their e-mail (``UNDELIVERED``, read through its
    partial index) with no credit awaiting a decision: ready to render and send.

    One query, whatever the number (the pending credits are an anti-join), so the hourly
    tick can run it over every statement ever issued."""
    pending = StatementCredit.objects.filter(
        statement=OuterRef("pk"), credit__status=Credit.Status.PENDING
    )
    return Statement.objects.filter(UNDELIVERED).exclude(Exists(pending))


def overdue_deliveries(settled_before: datetime) -> QuerySet[Statement]:
    """Issued statements still undelivered although nothing held them since
    ``settled_before`` (issued before it, no credit decided after it): the tick should
    have delivered them, so /healthz counts them."""
    recent = StatementCredit.objects.filter(
        statement=OuterRef("pk"), credit__decided_at__gte=settled_before
    )
    return (
        undelivered_statements()
        .filter(status=Statement.Status.ISSUED, issued_at__lt=settled_before)
        .exclude(Exists(recent))
    )


def statement_email(statement: Statement) -> OutboxMessage | None:
    """The statement's e-mail in the outbox (its delivery status, attempts, last error)."""
    return OutboxMessage.objects.filter(dedupe_key=f"statement:{statement.pk}").first()


# ---------------------------------------------------------------- support attainment


def _target_text(value: int | None, unit: str) -> str:
    return Target(value, unit).text


def attainment_text(met: int, breached: int) -> str:
    """A clock's attainment as the statement words it: met / (met + breached), to one
    place ("75.0 %"); "—" when no ticket was measured. (The statement's PDF and the SLA
    attainment report show the same words for the same counts.)"""
    judged = met + breached
    return f"{Decimal(met * 100) / judged:.1f} %" if judged else "—"


def _tally(states: list[str]) -> dict[str, int]:
    counts = Counter(states)
    met, breached, none = counts[MET], counts[BREACHED], counts[NO_TARGET]
    return {
        "met": met,
        "breached": breached,
        "open": len(states) - met - breached - none,
        "no_target": none,
    }


def tickets_received(contracts: list[Contract], month: date) -> dict[int, list[Ticket]]:
    """Each contract's tickets received in ``month`` (bounds in its policy's zone), in the
    order they arrived, by contract id: one query per zone, however many contracts."""
    found: dict[int, list[Ticket]] = {c.pk: [] for c in contracts}
    by_zone: dict[str, list[int]] = {}
    for contract in contracts:
        by_zone.setdefault(contract.policy.measurement_calendar.time_zone, []).append(contract.pk)
    for zone, ids in by_zone.items():
        start, end = month_bounds(month, zone)
        tickets = Ticket.objects.filter(
            contract__in=ids, received_at__gte=start, received_at__lt=end
        )
        for ticket in tickets.order_by("received_at", "pk"):
            found[ticket.contract_id].append(ticket)
    return found


def support_attainment(
    contract: Contract, month: date, *, now: datetime, tickets: list[Ticket] | None = None
) -> dict:
    """Response and resolution met/breached per severity (see the module docstring).
    ``tickets``: the contract's ``tickets_received`` when read already."""
    if tickets is None:
        tickets = tickets_received([contract], month)[contract.pk]
    states: dict[int, list] = {severity: [] for severity in (1, 2, 3, 4)}
    for ticket in tickets:
        states[ticket.severity].append(ticket_states(ticket, now))
    terms: dict[int, SeverityTerm] = severity_terms_for(contract)
    rows = []
    for severity, clocks in states.items():
        term = terms.get(severity)
        rows.append(
            {
                "severity": severity,
                "name": term.name if term else f"Severity {severity}",
                "around_the_clock": bool(term and term.around_the_clock),
                "response_target": _target_text(term.response_value, term.response_unit)
                if term
                else "No target",
                "resolution_target": _target_text(term.resolution_value, term.resolution_unit)
                if term
                else "No target",
                "tickets": len(clocks),
                "response": _tally([c.response for c in clocks]),
                "resolution": _tally([c.resolution for c in clocks]),
            }
        )
    calendar = contract.support_calendar or contract.policy.support_calendar
    return {
        "basis": "Tickets received in the month (policy time zone), under their current "
        "severity, as they stood when the statement was generated.",
        "calendar": calendar.name if calendar else "Around the clock (order form)",
        "severities": rows,
    }


# ---------------------------------------------------------------- the monthly run


def last_ended_month(zone: str, now: datetime) -> date:
    """The latest month that has ended in ``zone`` at ``now``: the one before the local
    month in progress (which began at a local midnight no later than ``now``)."""
    return _previous(month_of(now, zone))


def _previous(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def due_contract_months(
    now: datetime, *, months_back: int = CATCH_UP_MONTHS
) -> dict[date, list[int]]:
    """Contract ids per month still owed a statement: the month has ended in the
    contract's policy zone, is one of the last ``months_back`` ended there, the contract
    was active in it with at least one service line, no issued statement exists, no
    run has the contract-month claimed (pending), and no run failed on it (a failure
    waits for a staff retry rather than failing again every hour)."""
    zones = (
        Contract.objects.values_list("policy__measurement_calendar__time_zone", flat=True)
        .distinct()
        .order_by()
    )
    due: dict[date, list[int]] = {}
    for zone in zones:
        month = last_ended_month(zone, now)
        for _ in range(months_back):
            issued = Statement.objects.filter(contract=OuterRef("pk"), month=month).exclude(
                status=Statement.Status.DRAFT
            )
            handled = StatementRunItem.objects.filter(contract=OuterRef("pk"), month=month).filter(
                Q(status=StatementRunItem.Status.FAILED) | Q(status=StatementRunItem.Status.PENDING)
            )
            ids = (
                Contract.objects.in_force_during(*month_days(month))
                .filter(policy__measurement_calendar__time_zone=zone, lines__isnull=False)
                .exclude(Exists(issued))
                .exclude(Exists(handled))
                .values_list("pk", flat=True)
                .distinct()
                .order_by("pk")
            )
            found = list(ids)
            if found:
                due.setdefault(month, []).extend(found)
            month = _previous(month)
    return {month: sorted(ids) for month, ids in sorted(due.items())}


def lost_claims(now: datetime) -> QuerySet[StatementRunItem]:
    """Pending items dispatched more than ``CLAIM_EXPIRES`` ago: their task was lost."""
    return StatementRunItem.objects.filter(
        status=StatementRunItem.Status.PENDING, dispatched_at__lt=now - CLAIM_EXPIRES
    )


# ---------------------------------------------------------------- re-issue requests


def open_reissue_requests() -> QuerySet[ReissueRequest]:
    return ReissueRequest.objects.filter(resolved_at__isnull=True).order_by("requested_at", "pk")


def issued_statements(pairs: set[tuple[int, date]]) -> dict[tuple[int, date], Statement]:
    """The issued (current) statement of each (contract id, month) pair that has one."""
    if not pairs:
        return {}
    rows = Statement.objects.filter(
        status=Statement.Status.ISSUED,
        contract_id__in={contract_id for contract_id, _ in pairs},
        month__in={month for _, month in pairs},
    )
    found = {(s.contract_id, s.month): s for s in rows}
    return {pair: found[pair] for pair in pairs if pair in found}


def stated_months(pairs: set[tuple[int, date]]) -> dict[tuple[int, date], str]:
    """The lookup ``outages.reopening`` asks (registered in ``StatementsConfig.ready``):
    the pairs with an issued statement, each with the statement's name."""
    return {
        pair: f"{statement.number}, revision {statement.revision}"
        for pair, statement in issued_statements(pairs).items()
    }


def reissue_requests_for_staff(actor: User) -> QuerySet[ReissueRequest]:
    """The re-issue requests of the customers ``actor`` acts for (every customer's for an
    administrator, their own customers' for an account manager, none for anyone else)."""
    requests = ReissueRequest.objects.select_related(
        "contract__customer", "outage", "requested_by", "resolved_by"
    )
    return authority.scope_acted_for(requests, actor, "contract__customer")


def waiting_reissue_requests(actor: User) -> QuerySet[ReissueRequest]:
    """Waiting for staff, oldest first."""
    return (
        reissue_requests_for_staff(actor)
        .filter(resolved_at__isnull=True)
        .order_by("requested_at", "pk")
    )


def resolved_reissue_requests(actor: User) -> QuerySet[ReissueRequest]:
    """Resolved, latest first."""
    return (
        reissue_requests_for_staff(actor)
        .filter(resolved_at__isnull=False)
        .order_by("-resolved_at", "-pk")
    )
