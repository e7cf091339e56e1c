"""What a month's statement reads, read for many contracts at once.

A statement reads its contract's availability (the stored shared facts of its services'
month and its own scoped outages), its current statement, its existing credits and its
policy's credit terms, its tickets of the month and the webhook endpoints. Read one
contract at a time that is some twenty queries per statement, which cost more CPU than
the statement itself. ``statements_prepare`` reads them for a batch of contracts in a
fixed number of queries: ``statement_generate`` reads a batch of one; the monthly run's
task reads one for a batch of its run's items (``statements.services.runs``), so each
statement of the batch costs its own writes.

The contracts are locked first (``locked_contracts``, in id order so that two batches
never deadlock): what is read here is what their statements are written from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import prefetch_related_objects

from contracts.models import Contract
from credits.services import CreditInputs, credit_inputs
from outages.selectors import ServiceMonth, contracts_availability, share_policies
from outbox.models import WebhookEndpoint
from outbox.services import active_endpoints
from statements.models import Statement
from statements.selectors import tickets_received
from tickets.models import Ticket

# What a statement reads of its contract besides its lines: loaded with the lock...
LOADED = (
    "customer",
    "policy__measurement_calendar",
    "policy__support_calendar",
    "support_calendar",
)
# ...and read once for the batch (each policy once, however many contracts share it).
PREFETCHED = ("severities", "policy__severities", "policy__exclusions")


@dataclass(frozen=True, slots=True)
class Prepared:
    """One contract-month's reads, made under the contract's lock."""

    rows: list[ServiceMonth]  # its availability per service line
    current: Statement | None  # the month's statement that is not superseded
    credits: CreditInputs
    tickets: list[Ticket]  # received in the month
    endpoints: list[WebhookEndpoint]


def locked_contracts(ids: list[int]) -> dict[int, Contract]:
    """The contracts, locked until the transaction ends (in id order), with what their
    statements read of them."""
    rows = (
        Contract.objects.select_for_update(of=("self",))
        .select_related(*LOADED)
        .filter(pk__in=ids)
        .order_by("pk")
    )
    return {contract.pk: contract for contract in share_policies(list(rows))}


def statements_prepare(
    contracts: list[Contract], month: date, *, now: datetime, revision: int = 1
) -> dict[int, Prepared]:
    """Each contract's reads for its ``month`` statement (``revision``: of its credits),
    by contract id. ``contracts`` as ``locked_contracts`` gives them."""
    month = month.replace(day=1)
    prefetch_related_objects(contracts, *PREFETCHED)
    rows = contracts_availability(contracts, month, now=now)
    ids = [contract.pk for contract in contracts]
    current = {
        statement.contract_id: statement
        for statement in Statement.objects.filter(contract__in=ids, month=month).exclude(
            status=Statement.Status.SUPERSEDED
        )
    }
    endpoints = active_endpoints()
    credits = credit_inputs(contracts, month, revision=revision, endpoints=endpoints)
    tickets = tickets_received(contracts, month)
    return {
        pk: Prepared(rows[pk], current.get(pk), credits[pk], tickets[pk], endpoints) for pk in ids
    }
