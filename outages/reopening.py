"""Which statements a change to an outage reopens.

A change that touches a month which has already ended (in a contract's policy zone)
may change what that month's statement said. ``ended_contract_months`` names those
contract-months; the outage services open a ``ReissueRequest`` for each, and the outage
pages warn before saving (``reopen_preview``: the same contract-months, those with an
issued statement). Whether a month was actually *stated* is the statements module's
knowledge, a layer above: it registers a lookup here (``register_stated``) when it
loads, so this module never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from contracts.models import Contract
from slaportal.months import month_days, month_has_ended, months_touched

ContractMonth = tuple[Contract, date]
Interval = tuple[datetime, datetime]
# Given (contract id, month) pairs, those that have an issued statement, each with the
# words that name it ("ST-2026-06-000123-R2, revision 2").
StatedLookup = Callable[[set[tuple[int, date]]], Mapping[tuple[int, date], str]]
_stated: list[StatedLookup] = []


def register_stated(lookup: StatedLookup) -> None:
    if lookup not in _stated:
        _stated.append(lookup)


def stated_statements(pairs: set[tuple[int, date]]) -> dict[tuple[int, date], str]:
    """The pairs whose month has an issued statement, each with its statement's name
    (none while nothing registered)."""
    found: dict[tuple[int, date], str] = {}
    for lookup in _stated:
        found.update(lookup(pairs))
    return found


def stated(pairs: set[tuple[int, date]]) -> set[tuple[int, date]]:
    """The pairs whose month has an issued statement (none while nothing registered)."""
    return set(stated_statements(pairs))


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


# ---------------------------------------------------------------- the warning before saving


@dataclass(frozen=True)
class Reopened:
    """A contract-month whose issued statement a change would reopen."""

    contract: Contract
    month: date
    statement: str  # the statement's name, as the statements module gives it

    @property
    def key(self) -> str:
        return f"{self.contract.pk}:{self.month:%Y-%m}"


def touched(
    after: Interval,
    after_scope: list[int] | None,
    before: Interval | None = None,
    before_scope: list[int] | None = None,
) -> tuple[list[Interval], list[int] | None]:
    """The intervals and customers a change touches (``outages.services.outage_changed``'s
    rule): the new interval, and the old one on an edit; the new scope, or old and new
    together on an edit (None: every customer of the service)."""
    if before is None:
        return [after], after_scope
    if before_scope is None or after_scope is None:
        return [after, before], None
    return [after, before], before_scope + after_scope


def reopen_preview(
    service_id: int,
    intervals: Iterable[Interval],
    customers: Iterable[int] | None,
    now: datetime,
) -> list[Reopened]:
    """The contract-months a change would open re-issue requests for
    (``ended_contract_months``) that have an issued statement, by contract and month:
    exactly the statements that saving the change reopens."""
    months = ended_contract_months(service_id, intervals, customers, now)
    if not months:
        return []
    names = stated_statements({(contract.pk, month) for contract, month in months})
    return [
        Reopened(contract, month, names[(contract.pk, month)])
        for contract, month in months
        if (contract.pk, month) in names
    ]


def reopen_token(reopened: Iterable[Reopened]) -> str:
    """What a confirmation carries: the contract-months the person was shown, so a
    confirmation given for one list never saves a change that reopens another."""
    return ",".join(sorted(row.key for row in reopened))
