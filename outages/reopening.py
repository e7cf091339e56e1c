"""Which statements a change to an outage reopens.

A change that touches a month which has already ended (in a contract's policy zone)
may change what that month's statement said. ``ended_contract_months`` names those
contract-months; the outage services open a ``ReissueRequest`` for each, and the outage
pages warn before saving. Whether a month was actually *stated* is the statements
module's knowledge, a layer above: it registers a lookup here (``register_stated``)
when it loads, so this module never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from contracts.models import Contract
from slaportal.months import month_days, month_has_ended, months_touched

ContractMonth = tuple[Contract, date]
# Given (contract id, month) pairs, the subset that has an issued statement.
StatedLookup = Callable[[set[tuple[int, date]]], set[tuple[int, date]]]
_stated: list[StatedLookup] = []


def register_stated(lookup: StatedLookup) -> None:
    if lookup not in _stated:
        _stated.append(lookup)


def stated(pairs: set[tuple[int, date]]) -> set[tuple[int, date]]:
    """The pairs whose month has an issued statement (none while nothing registered)."""
    found: set[tuple[int, date]] = set()
    for lookup in _stated:
        found |= lookup(pairs)
    return found


def ended_contract_months(
    service_id: int,
    intervals: Iterable[tuple[datetime, datetime]],
    customers: Iterable[int] | None,
    now: datetime,
) -> list[ContractMonth]:
    """Every (contract, month) of the service's contracts (only ``customers``' when
    given) that the intervals touch, that the contract was in force in, and that has
    ended in the contract's policy zone, by contract and month."""
    intervals = list(intervals)
    contracts = Contract.objects.filter(lines__service_id=service_id).select_related(
        "policy__measurement_calendar", "customer"
    )
    if customers is not None:
        contracts = contracts.filter(customer_id__in=list(customers))
    found: list[ContractMonth] = []
    for contract in contracts.distinct().order_by("pk"):
        zone = contract.policy.measurement_calendar.time_zone
        months = {m for start, end in intervals for m in months_touched(start, end, zone)}
        for month in sorted(months):
            in_force = contract.days_in_force(*month_days(month)) is not None
            if in_force and month_has_ended(month, zone, now):
                found.append((contract, month))
    return found
