"""Reads: outages and availability figures from the database.

``availability_for_month`` computes every (contract, service) of a month in a fixed
number of queries, however many contracts and outages there are: contracts with their
policies, calendars and lines; the month's outages with their scopes; and how many
customers each service has that month (for the significant-subset rule).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, Q, QuerySet

from contracts.models import Contract, ContractLine, DowntimeCategory, Service, SLAPolicy
from contracts.selectors import business_calendar_for
from outages.availability import (
    Availability,
    Baseline,
    Memo,
    OutageFact,
    Terms,
    prepare,
)
from outages.incremental import extend, restrict
from outages.intervals import Interval
from outages.models import Outage
from slaportal.months import month_bounds, month_days

LABELS = dict(DowntimeCategory.choices)


@dataclass(frozen=True, slots=True)
class ServiceMonth:
    contract: Contract
    service: Service
    monthly_fee: Decimal
    result: Availability


class _Line(NamedTuple):
    service_id: int
    monthly_fee: Decimal


class _ScopedOutage(NamedTuple):
    outage: Outage
    customer_ids: list[int]  # the customers it is limited to; empty: all of them


class _BaseKey(NamedTuple):
    """What the accounts sharing one baseline have in common."""

    policy_id: int
    service_id: int
    days: tuple[date | None, date | None]  # active days inside the month; None: its edge


def policy_terms(policy: SLAPolicy) -> Terms:
    calendar = policy.measurement_calendar
    return Terms(
        zone=calendar.time_zone,
        measurement=business_calendar_for(calendar),
        denominator_basis=policy.denominator_basis,
        downtime_from_confirmation=policy.downtime_starts_at
        == SLAPolicy.DowntimeStart.CONFIRMATION,
        exclusions={e.category: e.treatment for e in policy.exclusions.all()},
        significant_subset_pct=policy.significant_subset_pct,
        counts_only_critical_services=policy.counts_only_critical_services,
        category_labels=LABELS,
    )


def _contracts(queryset: QuerySet[Contract]) -> list[Contract]:
    """The contracts with their customers, and their policies loaded once each.

    A bulk run meets a handful of policies across thousands of contracts: each policy
    (with its exclusions and measurement calendar) is read once and shared.
    """
    contracts = list(queryset.select_related("customer"))
    policies = SLAPolicy.objects.filter(pk__in={c.policy_id for c in contracts})
    policies = policies.select_related("measurement_calendar").prefetch_related(
        "exclusions", "measurement_calendar__intervals", "measurement_calendar__custom_holidays"
    )
    by_id = {policy.pk: policy for policy in policies}
    for contract in contracts:
        contract.policy = by_id[contract.policy_id]
    return contracts


def _lines(contracts: QuerySet[Contract]) -> tuple[dict[int, list[_Line]], dict[int, Service]]:
    """Each contract's (service id, monthly fee) lines, and the few services they name.

    Plain rows rather than model instances: a bulk run reads tens of thousands of lines
    but only a handful of distinct services.
    """
    by_contract: dict[int, list[_Line]] = defaultdict(list)
    rows = ContractLine.objects.filter(contract__in=contracts.values("pk")).order_by(
        "contract_id", "service__name"
    )
    for contract_id, service_id, fee in rows.values_list(
        "contract_id", "service_id", "monthly_fee"
    ):
        by_contract[contract_id].append(_Line(service_id, fee))
    service_ids = {sid for lines in by_contract.values() for sid, _ in lines}
    return by_contract, Service.objects.in_bulk(service_ids)


def _month_window(month: date) -> Interval:
    """UTC bounds wide enough for the month in any zone (±14 h)."""
    start, _ = month_bounds(month, "Etc/GMT-14")
    _, end = month_bounds(month, "Etc/GMT+12")
    return Interval(start, end)


def _outages(service_ids: Iterable[int], month: date) -> dict[int, list[_ScopedOutage]]:
    """The outages of the month by service, each with the customers it is limited to."""
    start, end = _month_window(month)
    rows = (
        Outage.objects.filter(service_id__in=list(service_ids), started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .order_by("started_at", "pk")
    )
    outages = list(rows)
    scopes: dict[int, list[int]] = defaultdict(list)
    links = Outage.customers.through.objects.filter(
        outage_id__in=[o.pk for o in outages if o.scope == Outage.Scope.CUSTOMERS]
    ).order_by("outage_id", "customer_id")
    for outage_id, customer_id in links.values_list("outage_id", "customer_id"):
        scopes[outage_id].append(customer_id)
    by_service: dict[int, list[_ScopedOutage]] = defaultdict(list)
    for outage in outages:
        by_service[outage.service_id].append(_ScopedOutage(outage, scopes.get(outage.pk, [])))
    return by_service


def _service_accounts(service_ids: Iterable[int], month: date) -> dict[int, int]:
    """Customers holding a contract line for each service that is active in the month."""
    rows = (
        ContractLine.objects.filter(service_id__in=list(service_ids))
        .filter(contract__in=Contract.objects.in_force_during(*month_days(month)))
        .values("service_id")
        .annotate(customers=Count("contract__customer", distinct=True))
    )
    return {row["service_id"]: row["customers"] for row in rows}


@dataclass(slots=True)
class _ServiceFacts:
    """A service's outages of the month as engine facts, built once per bulk run: those
    of every customer, and the scoped ones by the customer they reach."""

    shared: list[OutageFact]
    scoped: dict[int, list[OutageFact]]


def _service_facts(outages: list[_ScopedOutage], service: Service, accounts: int) -> _ServiceFacts:
    facts = _ServiceFacts([], defaultdict(list))
    for outage, scope_ids in outages:
        scoped = outage.scope == Outage.Scope.CUSTOMERS
        fact = OutageFact(
            id=outage.pk,
            title=outage.title,
            category=outage.category,
            started_at=outage.started_at,
            ended_at=outage.ended_at,
            confirmed_at=outage.confirmed_at,
            affected_accounts=len(scope_ids) if scoped else None,
            service_accounts=accounts,
            service_critical=service.critical,
        )
        if not scoped:
            facts.shared.append(fact)
        # Another customer's scoped outage is not this account's downtime: only the
        # customers it names get it.
        for customer_id in scope_ids:
            facts.scoped[customer_id].append(fact)
    return facts


def availability_for_month(
    month: date, contracts: QuerySet[Contract] | None = None, *, now: datetime | None = None
) -> Iterator[ServiceMonth]:
    """Every (contract, service line) active in ``month``, computed in bulk.

    What every account of a policy and service shares over the same active days (the
    outages of all customers) is computed once per run; an account with outages of its
    own gets them added on top (``outages.availability.extend``), and accounts with the
    same own outages share that result too.
    """
    month = month.replace(day=1)
    queryset = contracts if contracts is not None else Contract.objects.all()
    contract_list = _contracts(queryset)
    lines, services = _lines(queryset)
    outages = _outages(services, month)
    accounts = _service_accounts(services, month)
    facts = {
        sid: _service_facts(outages.get(sid, []), service, accounts.get(sid, 1))
        for sid, service in services.items()
    }
    terms_cache: dict[int, Terms] = {}
    bases: dict[_BaseKey, Baseline] = {}
    results: dict[tuple[_BaseKey, tuple[int, ...]], Availability] = {}
    memo = Memo()  # this run's screening answers (see outages.availability.compute)
    first_day, last_day = month_days(month)
    for contract in contract_list:
        active = contract.days_in_force(first_day, last_day)
        if active is None:
            continue
        terms = terms_cache.get(contract.policy_id)
        if terms is None:
            terms = terms_cache[contract.policy_id] = policy_terms(contract.policy)
        # The days in force inside this month (the termination day included): contracts
        # in force to the month's end share a key.
        days = (active[0], None if active[1] == last_day else active[1])
        for service_id, monthly_fee in lines.get(contract.pk, []):
            service_facts = facts[service_id]
            shared_key = _BaseKey(contract.policy_id, service_id, days)
            base = bases.get(shared_key)
            if base is None:
                whole_key = _BaseKey(contract.policy_id, service_id, (month, None))
                whole = bases.get(whole_key)
                if whole is None:
                    whole = bases[whole_key] = prepare(
                        terms, month=month, outages=service_facts.shared, now=now, memo=memo
                    )
                base = bases[shared_key] = restrict(whole, *days, memo)
            mine = service_facts.scoped.get(contract.customer_id)
            if not mine:
                result = base.result
            else:  # the account's own outages on top of what everyone shares
                key = (shared_key, tuple(f.id for f in mine))
                result = results.get(key)
                if result is None:
                    result = results[key] = extend(base, mine, memo)
            yield ServiceMonth(contract, services[service_id], monthly_fee, result)


def contract_availability(
    contract: Contract, month: date, *, now: datetime | None = None
) -> list[ServiceMonth]:
    """One contract's services for a month (same queries as the bulk run)."""
    return list(availability_for_month(month, Contract.objects.filter(pk=contract.pk), now=now))


def outages_for_staff() -> QuerySet[Outage]:
    return Outage.objects.select_related("service", "created_by").prefetch_related("customers")
