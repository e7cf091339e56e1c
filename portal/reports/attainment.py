"""The SLA attainment report: per customer, month and severity, the tickets received,
first responses and resolutions met and breached, and the median and 90th percentile
time to first response in business time.

**The same figures as the statements.** A month of a contract is counted exactly as its
statement's support section counts it (``statements.selectors.support_attainment``):
tickets *received* in the month (bounds in the policy's zone), under their current
severity. Where the month's statement is issued, the report reads the figures the
statement stored (so they stay equal to the document the customer holds, however the
tickets moved on since); otherwise (the month in progress, or a month whose statement is
not issued yet) it runs ``support_attainment`` now. A customer's row adds up their
contracts' rows.

**Time to first response** is the business time the response clock ran, as
``tickets.clocks`` measures it for the target: from receipt to the first public staff
reply (or the resolution, when that came first), on the contract's support calendar (24x7
for a severity the policy runs around the clock), pauses waiting on the customer left
out. Only clocks stopped by the figures' instant count (the statement's generation, or
now): a ticket still unanswered has no time yet. (The times are read from the tickets as
they are now: one reclassified since its statement was issued is timed under its new
severity, while the statement's counts keep the old one.) Median and 90th percentile are
nearest-rank: the value at rank ⌈p × n⌉ of the n times, so each is a time a ticket
really took, exact to the second.

**Who sees what** (``report_customers``): a customer's people their organisation; an
account manager the customers they manage; administrators, agents and operations every
customer. Pages, downloads and API all start from it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from contracts.models import Calendar, Contract, Customer, User
from portal.selectors import Tally
from slaportal import authority, roles
from slaportal.months import month_bounds, month_days, next_month
from statements.models import Statement
from statements.selectors import support_attainment, tickets_received
from tickets.clocks import SupportTerms
from tickets.models import Ticket
from tickets.selectors import support_terms_for, ticket_clocks

SEVERITIES = (1, 2, 3, 4)
_STATES = ("met", "breached", "open", "no_target")  # a clock's outcomes, as statements count
# Staff roles that read every customer's figures (account managers: their own customers).
EVERY_CUSTOMER = frozenset({roles.ADMIN, roles.AGENT, roles.OPERATIONS})


def report_customers(user: User) -> QuerySet[Customer]:
    """The one rule of who sees whose figures (see the module docstring)."""
    customers = Customer.objects.order_by("name")
    if not user.is_authenticated:
        return customers.none()
    if user.customer_id is not None:
        return customers.filter(pk=user.customer_id)
    held = roles.staff_roles(user)
    if held & EVERY_CUSTOMER:
        return customers
    if roles.ACCOUNT_MANAGER in held:
        return authority.scope_acted_for(customers, user, "pk")
    return customers.none()


def nearest_rank(times: list[timedelta], percent: int) -> timedelta | None:
    """The value at rank ⌈percent × n / 100⌉ of the sorted times; None for none."""
    if not times:
        return None
    ordered = sorted(times)
    rank = -(-percent * len(ordered) // 100)  # ceiling, in integers
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Source:
    """Where one contract-month's figures come from."""

    contract: str  # its reference
    statement: str | None  # the issued statement's number; None: computed live
    as_of: datetime  # the statement's generation, or now


@dataclass
class Row:
    """One (customer, month, severity): the sum of the customer's contracts' figures."""

    customer_id: int
    customer: str
    month: date
    severity: int
    names: set[str] = field(default_factory=set)
    tickets: int = 0
    response: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_STATES, 0))
    resolution: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_STATES, 0))
    response_times: list[timedelta] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The contracts' word for the severity when they agree, else "Severity N"."""
        return next(iter(self.names)) if len(self.names) == 1 else f"Severity {self.severity}"

    @property
    def median(self) -> timedelta | None:
        return nearest_rank(self.response_times, 50)

    @property
    def p90(self) -> timedelta | None:
        return nearest_rank(self.response_times, 90)

    def add(self, stored: dict, times: list[timedelta], source: Source) -> None:
        """A contract's figures for the severity; nothing from a contract with no ticket
        of it (its word for the severity and its source would only confuse the row)."""
        if not stored["tickets"]:
            return
        self.names.add(stored["name"])
        self.tickets += stored["tickets"]
        for clock in ("response", "resolution"):
            for state in _STATES:
                getattr(self, clock)[state] += stored[clock].get(state, 0)
        self.response_times.extend(times)
        self.sources.append(source)


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    severity: int | None
    months: list[date]
    rows: list[Row]  # rows with at least one ticket, by customer, month and severity
    customers: int  # customers in scope
    contract_months: int  # contract-months measured (in force, started)

    def tallies(self, clock: str) -> dict[tuple[date, int], Tally]:
        """Met and breached per (month, severity) over every row: the chart's bars."""
        found: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0])
        for row in self.rows:
            counts = getattr(row, clock)
            found[row.month, row.severity][0] += counts["met"]
            found[row.month, row.severity][1] += counts["breached"]
        return {key: Tally(met, breached) for key, (met, breached) in found.items()}


def months_between(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def _contracts(customers: QuerySet[Customer], first: date, last: date) -> list[Contract]:
    calendars = Calendar.objects.prefetch_related("intervals", "custom_holidays")
    return list(
        Contract.objects.filter(customer__in=customers.values("pk"))
        .in_force_during(first, month_days(last)[1])
        .select_related("customer", "policy__measurement_calendar")
        .prefetch_related(
            "severities",
            "policy__severities",
            Prefetch("support_calendar", queryset=calendars),
            Prefetch("policy__support_calendar", queryset=calendars),
        )
        .order_by("pk")
    )


def _issued(contracts: list[Contract], first: date, last: date) -> dict[tuple[int, date], dict]:
    """The issued statements' support sections, by (contract id, month): only those keys
    of each snapshot are read, not the whole document."""
    rows = Statement.objects.filter(
        contract__in=[c.pk for c in contracts],
        month__gte=first,
        month__lte=last,
        status=Statement.Status.ISSUED,
    ).values("contract_id", "month", "number", "snapshot__support", "snapshot__generated_at")
    return {(row["contract_id"], row["month"]): row for row in rows}


def _response_times(
    tickets: list[Ticket], terms: SupportTerms, as_of: datetime
) -> dict[int, list[timedelta]]:
    """Per severity, the business time each ticket's response clock ran, for the clocks
    stopped by ``as_of`` (see the module docstring)."""
    times: dict[int, list[timedelta]] = defaultdict(list)
    for ticket in tickets:
        response = ticket_clocks(ticket, as_of, terms=terms).response
        if response.stopped_at is not None and response.stopped_at <= as_of:
            times[ticket.severity].append(response.elapsed)
    return times


def attainment_report(
    customers: QuerySet[Customer],
    *,
    first: date,
    last: date,
    now: datetime,
    severity: int | None = None,
) -> Report:
    """The report's figures for ``customers`` (narrowed by the caller from
    ``report_customers``) over the months ``first``–``last``, one severity or all."""
    months = months_between(first, last)
    contracts = _contracts(customers, months[0], months[-1])
    issued = _issued(contracts, months[0], months[-1])
    terms: dict[int, SupportTerms] = {}
    rows: dict[tuple[int, date, int], Row] = {}
    measured = 0
    for month in months:
        # A contract in force on a day of the month, in a month that has begun in its zone.
        running = [
            c
            for c in contracts
            if c.days_in_force(*month_days(month)) is not None
            and month_bounds(month, c.policy.measurement_calendar.time_zone)[0] <= now
        ]
        received = tickets_received(running, month)
        prefetch_related_objects([t for found in received.values() for t in found], "pauses")
        for contract in running:
            measured += 1
            statement = issued.get((contract.pk, month))
            if statement is not None:
                support = statement["snapshot__support"]
                as_of = datetime.fromisoformat(statement["snapshot__generated_at"])
                source = Source(contract.reference, statement["number"], as_of)
            else:
                support = support_attainment(
                    contract, month, now=now, tickets=received[contract.pk]
                )
                as_of = now
                source = Source(contract.reference, None, now)
            if contract.pk not in terms:
                terms[contract.pk] = support_terms_for(contract)
            times = _response_times(received[contract.pk], terms[contract.pk], as_of)
            for stored in support["severities"]:
                level = stored["severity"]
                if severity is not None and level != severity:
                    continue
                key = (contract.customer_id, month, level)
                if key not in rows:
                    rows[key] = Row(contract.customer_id, contract.customer.name, month, level)
                rows[key].add(stored, times.get(level, []), source)
    found = sorted(
        (row for row in rows.values() if row.tickets),
        key=lambda r: (r.customer.casefold(), r.customer_id, r.month, r.severity),
    )
    return Report(
        first=months[0],
        last=months[-1],
        severity=severity,
        months=months,
        rows=found,
        customers=customers.count(),
        contract_months=measured,
    )
