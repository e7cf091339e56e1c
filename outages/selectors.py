"""Reads: outages and availability figures from the database.

``availability_for_month`` computes every (contract, service) of a month in a fixed
number of queries, however many contracts and outages there are: contracts with their
policies, calendars and lines; the shared facts of each service's month
(``outages.shared_facts``: its outages and how many customers it has), computed there
and then; and the contracts' own scoped outages. ``contracts_availability`` (and
``contract_availability`` for one) is the path of the monthly run's tasks, the
availability page and the API: they read the shared facts stored once for every worker
and reuse this process's baselines (``outages.baselines``), so a contract costs its own
scoped outages, not the whole service's month again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Q, QuerySet, prefetch_related_objects

from contracts.models import Contract, ContractLine, Service, SLAPolicy
from outages.availability import Availability, OutageFact
from outages.baselines import (  # noqa: F401  (LABELS, policy_terms: read from here too)
    LABELS,
    baseline,
    policy_terms,
    with_own,
)
from outages.models import Outage
from outages.shared_facts import ServiceFacts, month_facts, month_facts_computed
from slaportal.months import month_days


@dataclass(frozen=True, slots=True)
class ServiceMonth:
    contract: Contract
    service: Service
    monthly_fee: Decimal
    result: Availability
    # The service's outages of the month, by id: the recorded times a statement shows.
    outages: Mapping[int, OutageFact] = field(default_factory=dict)


class _Line(NamedTuple):
    service_id: int
    monthly_fee: Decimal


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


def _own_outages(
    facts: dict[int, ServiceFacts],
    contracts: QuerySet[Contract] | None = None,
    *,
    customer_ids: set[int] | None = None,
) -> dict[tuple[int, int], list[OutageFact]]:
    """The scoped outages of the month that reach the customers of ``contracts`` (or
    those customers), by (customer, service), in the order of their start. Another
    customer's scoped outage is not this account's downtime: only the customers it names
    get it."""
    scoped = {pk: fact for f in facts.values() for pk, fact in f.scoped.items()}
    if not scoped:
        return {}
    service_of = {pk: f.service_id for f in facts.values() for pk in f.scoped}
    links = Outage.customers.through.objects.filter(outage_id__in=list(scoped))
    if customer_ids is not None:
        links = links.filter(customer_id__in=sorted(customer_ids))
    elif contracts is not None:
        links = links.filter(customer_id__in=contracts.values("customer_id"))
    own: dict[tuple[int, int], list[OutageFact]] = defaultdict(list)
    for outage_id, customer_id in links.values_list("outage_id", "customer_id"):
        own[customer_id, service_of[outage_id]].append(scoped[outage_id])
    for outages in own.values():
        outages.sort(key=_by_start)
    return own


def availability_for_month(
    month: date, contracts: QuerySet[Contract] | None = None, *, now: datetime | None = None
) -> Iterator[ServiceMonth]:
    """Every (contract, service line) active in ``month``, computed in bulk.

    What every account of a policy and service shares over the same active days (the
    outages of all customers) is this process's baseline of the month's facts; an account
    with outages of its own gets them added on top (``outages.incremental.extend``), and
    accounts with the same own outages share that result too.
    """
    month = month.replace(day=1)
    queryset = contracts if contracts is not None else Contract.objects.all()
    contract_list = _contracts(queryset)
    lines, services = _lines(queryset)
    facts = month_facts_computed(month, services)
    own = _own_outages(facts, queryset)
    results: dict[tuple, Availability] = {}
    for contract in contract_list:
        contract_lines = [
            (services[sid], fee, facts[sid], own.get((contract.customer_id, sid), ()))
            for sid, fee in lines.get(contract.pk, [])
        ]
        yield from _measure(contract, month, contract_lines, now, results)


def _measure(
    contract: Contract,
    month: date,
    lines: list[tuple[Service, Decimal, ServiceFacts, Sequence[OutageFact]]],
    now: datetime | None,
    results: dict[tuple, Availability],
) -> Iterator[ServiceMonth]:
    """The contract's lines (service, fee, the service's facts, the contract's own scoped
    outages of it) measured on its policy; ``results`` is shared by a bulk run's calls."""
    first_day, last_day = month_days(month)
    active = contract.days_in_force(first_day, last_day)
    if active is None:
        return
    terms = policy_terms(contract.policy)
    # The days in force inside this month (the termination day included): contracts in
    # force to the month's end share a baseline.
    days = (active[0], None if active[1] == last_day else active[1])
    for service, monthly_fee, facts, mine in lines:
        base = baseline(terms, facts, days, now)
        if not mine:
            result = base.result
        else:  # the account's own outages on top of what everyone shares
            key = (base, tuple(f.id for f in mine))
            result = results.get(key)
            if result is None:
                result = results[key] = with_own(base, terms, facts, mine, now)
        yield ServiceMonth(contract, service, monthly_fee, result, facts.outages)


def contract_availability(
    contract: Contract, month: date, *, now: datetime | None = None
) -> list[ServiceMonth]:
    """One contract's services for a month, as the bulk run gives them (see
    ``contracts_availability``)."""
    return contracts_availability([contract], month, now=now)[contract.pk]


def contracts_availability(
    contracts: list[Contract], month: date, *, now: datetime | None = None
) -> dict[int, list[ServiceMonth]]:
    """The services of each of ``contracts`` (as loaded: their policies' exclusions and
    measurement calendars are prefetched onto them unless they are already) for a month,
    by contract id: their lines, the stored facts of their services' month and their own
    scoped outages, in a fixed number of queries however many contracts there are, none
    of which reads any other contract."""
    month = month.replace(day=1)
    first_day, last_day = month_days(month)
    active = [c for c in contracts if c.days_in_force(first_day, last_day) is not None]
    measured: dict[int, list[ServiceMonth]] = {c.pk: [] for c in contracts}
    if not active:
        return measured
    prefetch_related_objects(
        [c.policy for c in share_policies(active)],
        "exclusions",
        "measurement_calendar__intervals",
        "measurement_calendar__custom_holidays",
    )
    lines, services = _lines(Contract.objects.filter(pk__in=[c.pk for c in active]))
    facts = month_facts(month, services)
    own = _own_outages(facts, customer_ids={c.customer_id for c in active})
    results: dict[tuple, Availability] = {}
    for contract in active:
        contract_lines = [
            (services[sid], fee, facts[sid], own.get((contract.customer_id, sid), ()))
            for sid, fee in lines.get(contract.pk, [])
        ]
        measured[contract.pk] = list(_measure(contract, month, contract_lines, now, results))
    return measured


def share_policies(contracts: list[Contract]) -> list[Contract]:
    """``contracts``, each policy one object among them (a row each of a select_related
    is a copy each), so what is prefetched onto a policy is read once for all of them."""
    policies: dict[int, SLAPolicy] = {}
    for contract in contracts:
        contract.policy = policies.setdefault(contract.policy_id, contract.policy)
    return contracts


def _by_start(fact: OutageFact) -> tuple[datetime, int]:
    return (fact.started_at, fact.id)


def outages_for_staff() -> QuerySet[Outage]:
    return Outage.objects.select_related("service", "created_by").prefetch_related("customers")


def unconfirmed_outages() -> QuerySet[Outage]:
    """Outages opened by an alert that operations have neither confirmed nor dismissed,
    newest first: the top of /ops/."""
    return (
        outages_for_staff()
        .filter(source=Outage.Source.ALERT, confirmed_at__isnull=True, dismissed_at__isnull=True)
        .order_by("-started_at", "-pk")
    )


# What customers and the public may see of outages: neither a dismissed one (a false
# alarm) nor one an alert opened that operations have not confirmed yet.
PUBLISHED = Q(dismissed_at__isnull=True) & ~Q(source=Outage.Source.ALERT, confirmed_at__isnull=True)
