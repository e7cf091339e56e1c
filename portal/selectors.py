"""Reads behind the customer and account manager dashboards.

Each dashboard costs a fixed number of queries however many tickets, outages,
statements, credits, contracts or customers there are: counts and shares are SQL
aggregates, related rows are prefetched, and availability comes from the services'
stored facts of the month (``outages.selectors.contracts_availability``), read once per
distinct policy month: none of it reads another customer's contracts.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, TruncMonth

from contracts.calendars import CalendarError
from contracts.models import Contract, Customer, Service, User
from contracts.selectors import customers_for_account_manager
from credits.models import Credit
from credits.selectors import pending_credits_for
from outages.facts import Availability
from outages.models import Outage, OutageUpdate
from outages.selectors import PUBLISHED, contracts_availability
from slaportal import roles
from slaportal.money import format_money
from slaportal.months import local_date, local_midnight, month_of
from statements.models import Statement
from statements.selectors import statements_for_customer
from tickets.models import Ticket
from tickets.selectors import contracts_in_force

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------- availability so far


@dataclass(frozen=True)
class Standing:
    """One (contract, service) this month so far, against the contract's target."""

    contract: Contract
    service: Service
    month: date
    result: Availability
    target: Decimal

    @property
    def on_track(self) -> bool:
        return self.result.percent >= Fraction(self.target)

    @property
    def shortfall(self) -> Fraction:
        """Percentage points below target (zero when on track): how far off it is."""
        return max(Fraction(self.target) - self.result.percent, Fraction(0))


def live_availability(contracts: QuerySet[Contract], now: datetime) -> tuple[list[Standing], bool]:
    """Every service line of ``contracts`` in its policy's current month, up to ``now``,
    and whether some figures could not be computed.

    A month is the policy's (contracts under policies in different zones can be in
    different months around midnight on the 1st), so the contracts are measured once per
    distinct month: at most two runs, whatever the number of contracts. A calendar that
    cannot measure (no opening hours) must not take the whole dashboard down: that
    month's figures are left out and the page says so.
    """
    zones = contracts.values_list("pk", "policy__measurement_calendar__time_zone")
    by_month: dict[date, list[int]] = defaultdict(list)
    for pk, zone in zones:
        by_month[month_of(now, zone)].append(pk)
    standings, failed = [], False
    for month, ids in sorted(by_month.items()):
        # The services' stored facts of the month (``contracts_availability``): reading
        # them does not grow with other customers' contracts, as counting them afresh did.
        loaded = Contract.objects.filter(pk__in=ids).select_related("customer", "policy")
        contract_list = list(loaded.order_by("pk"))
        try:
            measured = contracts_availability(contract_list, month, now=now)
            results = [item for contract in contract_list for item in measured[contract.pk]]
        except CalendarError:
            logger.exception("live availability for %s failed", month)
            failed = True
            continue
        standings.extend(
            Standing(
                contract=item.contract,
                service=item.service,
                month=month,
                result=item.result,
                target=item.contract.policy.target_availability,
            )
            for item in results
        )
    standings.sort(key=lambda s: (s.contract.customer.name, s.contract.reference, s.service.name))
    return standings, failed


# ---------------------------------------------------------------- incidents


def active_incidents(
    customer: Customer, now: datetime, *, since: datetime | None = None
) -> QuerySet[Outage]:
    """Outages that reach the customer: those of every customer of a service their
    contracts cover, and those limited to them; never another customer's scoped outage,
    nor an unpublished one (``PUBLISHED``). Internal notes are not even read; public
    updates are prefetched, the latest one's stage annotated (``latest_stage``).
    Without ``since`` (the dashboard): those ongoing at ``now``, contracts in force
    today. With it (the incidents page): also those ended after ``since`` and announced
    maintenance to come, contracts in force at any time since."""
    zone = customer.time_zone
    today = local_date(now, zone)
    if since is None:
        contracts = contracts_in_force(customer, on=today)
        shown = Q(started_at__lte=now) & (Q(ended_at__isnull=True) | Q(ended_at__gt=now))
    else:
        contracts = customer.contracts.in_force_during(local_date(since, zone), today)
        begun = Q(started_at__lte=now) | Q(announced_at__lte=now)
        shown = begun & (Q(ended_at__isnull=True) | Q(ended_at__gt=since))
    services = Service.objects.filter(contract_lines__contract__in=contracts).values("pk")
    reaches = Q(scope=Outage.Scope.ALL, service__in=services) | Q(
        scope=Outage.Scope.CUSTOMERS, customers=customer
    )
    ids = Outage.objects.filter(PUBLISHED, shown & reaches).values("pk")
    # Recording an outage posts its description as the first update: shown once.
    public = (
        OutageUpdate.objects.filter(public=True)
        .exclude(text=F("outage__description"))
        .order_by("-posted_at", "-pk")
    )
    latest = OutageUpdate.objects.filter(outage=OuterRef("pk"), public=True).order_by(
        "-posted_at", "-pk"
    )
    return (
        Outage.objects.filter(pk__in=ids)
        .defer("internal_notes")
        .select_related("service")
        .annotate(latest_stage=Subquery(latest.values("stage")[:1]))
        .prefetch_related(Prefetch("updates", queryset=public, to_attr="public_updates"))
        .order_by("-started_at", "-pk")
    )


# ---------------------------------------------------------------- ticket clocks in SQL

# The same rule as ``tickets.clocks.clock_state`` on the stored columns: the response
# clock stops at the first public staff reply or at resolution, whichever came first;
# the resolution clock at resolution (only while the ticket stays resolved or closed).
# Least(Coalesce(a, b), Coalesce(b, a)): the earlier of two possibly-null instants on
# every database (SQLite's MIN() returns null when either is null).
_RESOLVED_STOP = Case(
    When(status__in=Ticket.DONE_STATUSES, then=F("resolved_at")),
    default=None,
    output_field=DateTimeField(),
)
_RESPONSE_STOP = Least(
    Coalesce("responded_at", _RESOLVED_STOP), Coalesce(_RESOLVED_STOP, "responded_at")
)


def _with_stops(tickets: QuerySet[Ticket], now: datetime) -> QuerySet[Ticket]:
    return tickets.annotate(
        response_stop=_RESPONSE_STOP,
        resolution_stop=_RESOLVED_STOP,
        response_moment=Coalesce(_RESPONSE_STOP, Value(now, output_field=DateTimeField())),
        resolution_moment=Coalesce(_RESOLVED_STOP, Value(now, output_field=DateTimeField())),
    )


def _breached(clock: str) -> Q:
    return Q(**{f"{clock}_target__isnull": False, f"{clock}_due_at__lt": F(f"{clock}_moment")})


def _met(clock: str) -> Q:
    return Q(**{f"{clock}_target__isnull": False, f"{clock}_stop__isnull": False}) & (
        Q(**{f"{clock}_due_at__isnull": True}) | Q(**{f"{clock}_due_at__gte": F(f"{clock}_stop")})
    )


ANY_BREACH = (
    _breached("response")
    | _breached("resolution")
    | Q(response_breached=True)
    | Q(resolution_breached=True)
)


# ---------------------------------------------------------------- account manager


def credits_awaiting(user: User) -> QuerySet[Credit]:
    """Pending credits this person decides: their customers' (an administrator's, all)."""
    if roles.has_role(user, roles.ADMIN):
        return (
            Credit.objects.filter(status=Credit.Status.PENDING)
            .select_related("contract__customer", "service")
            .order_by("month", "contract__reference", "service__name")
        )
    return pending_credits_for(user)


@dataclass
class CustomerRisk:
    customer: Customer
    standings: list[Standing] = field(default_factory=list)
    breached_tickets: int = 0
    pending_credits: int = 0
    pending_amounts: dict[str, Decimal] = field(default_factory=dict)

    @property
    def below_target(self) -> list[Standing]:
        return [s for s in self.standings if not s.on_track]

    @property
    def level(self) -> str:
        if self.below_target:
            return "high"
        if self.breached_tickets or self.pending_credits:
            return "watch"
        return "ok"

    @property
    def rank_key(self) -> tuple:
        # Availability below target first (it costs credits), then breached tickets,
        # then pending credits; the deepest shortfall breaks ties.
        worst = max((s.shortfall for s in self.standings), default=Fraction(0))
        return (
            -len(self.below_target),
            -self.breached_tickets,
            -self.pending_credits,
            -worst,
            self.customer.name,
        )

    @property
    def contract_rows(self) -> list[tuple[Contract, list[Standing]]]:
        """Each contract (prefetched on the customer) with its services this month."""
        return [
            (c, [s for s in self.standings if s.contract.pk == c.pk])
            for c in self.customer.contracts.all()
        ]

    @property
    def reasons(self) -> list[str]:
        reasons = [
            f"{s.service.name} ({s.contract.reference}) at {s.result.display}, "
            f"below its {s.target} % target"
            for s in self.below_target
        ]
        if self.breached_tickets:
            n = self.breached_tickets
            reasons.append(f"{n} breached ticket{'s' if n != 1 else ''} (open or this month)")
        if self.pending_credits:
            n = self.pending_credits
            amounts = ", ".join(format_money(a, c) for c, a in sorted(self.pending_amounts.items()))
            reasons.append(f"{n} credit{'s' if n != 1 else ''} pending ({amounts})")
        return reasons


def customer_risks(user: User, now: datetime) -> tuple[list[CustomerRisk], bool]:
    """The managed customers, riskiest first, each with the figures behind its rank;
    and whether some availability figures could not be computed."""
    customers = customers_for_account_manager(user)
    ids = customers.values("pk")
    contracts = Contract.objects.filter(customer__in=ids)
    risks = {c.pk: CustomerRisk(c) for c in customers}
    standings, failed = live_availability(contracts, now)
    for standing in standings:
        risks[standing.contract.customer_id].standings.append(standing)

    month_start = local_midnight(month_of(now, user.time_zone or "UTC"), user.time_zone or "UTC")
    tickets = _with_stops(Ticket.objects.filter(customer__in=ids), now)
    recent = Q(status__in=Ticket.OPEN_STATUSES) | Q(received_at__gte=month_start)
    breaches = (
        tickets.filter(recent)
        .values("customer_id")
        .annotate(n=Count("pk", filter=ANY_BREACH))
        .order_by()
    )
    for row in breaches:
        risks[row["customer_id"]].breached_tickets = row["n"]

    pending = (
        Credit.objects.filter(status=Credit.Status.PENDING, contract__customer__in=ids)
        .values("contract__customer_id", "currency")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    )
    for row in pending:
        risk = risks[row["contract__customer_id"]]
        risk.pending_credits += row["n"]
        risk.pending_amounts[row["currency"]] = row["total"]
    return sorted(risks.values(), key=lambda r: r.rank_key), failed


@dataclass(frozen=True)
class Tally:
    met: int = 0
    breached: int = 0

    @property
    def measured(self) -> int:
        return self.met + self.breached

    @property
    def share(self) -> Fraction | None:
        """Attainment = met / (met + breached), as statements report it; none if neither."""
        return Fraction(self.met, self.measured) if self.measured else None


def last_months(now: datetime, zone: str, count: int = 12) -> list[date]:
    month = month_of(now, zone)
    months = [month]
    for _ in range(count - 1):
        month = _previous_month(month)
        months.append(month)
    return months[::-1]


def sla_attainment(user: User, now: datetime, months: int = 12) -> dict:
    """Response and resolution targets met per (month, severity) over the last
    ``months`` months in the viewer's zone, for the tickets of the customers they
    manage. One grouped query."""
    zone = user.time_zone or "UTC"
    span = last_months(now, zone, months)
    start = local_midnight(span[0], zone)
    ids = customers_for_account_manager(user).values("pk")
    tickets = _with_stops(Ticket.objects.filter(customer__in=ids, received_at__gte=start), now)
    rows = (
        tickets.annotate(month=TruncMonth("received_at", tzinfo=ZoneInfo(zone)))
        .values("month", "severity")
        .annotate(
            response_met=Count("pk", filter=_met("response")),
            response_breached=Count("pk", filter=_breached("response")),
            resolution_met=Count("pk", filter=_met("resolution")),
            resolution_breached=Count("pk", filter=_breached("resolution")),
        )
        .order_by()
    )
    data: dict[str, dict[tuple[date, int], Tally]] = {"response": {}, "resolution": {}}
    for row in rows:
        month = row["month"]
        month = month.date() if isinstance(month, datetime) else month
        for clock in data:
            key = (month, row["severity"])
            data[clock][key] = Tally(row[f"{clock}_met"], row[f"{clock}_breached"])
    return {"months": span, "zone": zone, **data}


def _previous_month(month: date) -> date:
    year, number = (month.year, month.month - 1) if month.month > 1 else (month.year - 1, 12)
    return date(year, number, 1)


# ---------------------------------------------------------------- customer


OPEN_TICKETS_SHOWN = 8
STATEMENTS_SHOWN = 5
CREDITS_SHOWN = 10


def open_tickets(customer: Customer) -> QuerySet[Ticket]:
    """The customer's open tickets, nearest running deadline first."""
    return (
        Ticket.objects.filter(customer=customer, status__in=Ticket.OPEN_STATUSES)
        .select_related("service")
        .order_by(F("next_due_at").asc(nulls_last=True), "-created_at", "-id")
    )


def latest_statements(customer: Customer) -> QuerySet[Statement]:
    """Issued statements only (a superseded one is replaced by its re-issue)."""
    return statements_for_customer(customer).filter(status=Statement.Status.ISSUED)[
        :STATEMENTS_SHOWN
    ]
