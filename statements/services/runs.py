"""The monthly run: plan a month's statements as a run of claimed items, process a
batch of items, retry a run's failures, and the hourly tick (which settles the re-issue
requests of unstated months: ``statements.services.reissues``).

Work is claimed in the database, never with cache locks: a run's items are inserted
with ``ON CONFLICT DO NOTHING`` against a partial unique index (one *pending* item per
contract-month), so a second run planned at the same time — the beat firing twice,
the command during the tick — claims nothing the first one holds. A task
(``statements.tasks.statement_generate_task``) takes its item and the next pending
ones (``batch_size``; one for a small run) under row locks that other workers skip
(``FOR UPDATE SKIP LOCKED``), and closes them and moves the run's stored counters in the
same transaction, so a task delivered twice counts once. What every contract of a
service shares that month is computed once when the run is planned and stored
(``outages.shared_facts``), where a worker on any machine reads it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import BigIntegerField, Case, Exists, F, OuterRef, Value, When
from django.utils import timezone

from contracts.models import Contract, ContractLine, User
from outages.shared_facts import month_facts
from slaportal import authority, roles
from slaportal.months import month_days, month_has_ended
from slaportal.transactions import after_commit
from statements.models import Statement, StatementRun, StatementRunItem
from statements.selectors import due_contract_months, lost_claims
from statements.services.delivery import statements_deliver_owed
from statements.services.generate import statement_generate
from statements.services.prepare import Prepared, locked_contracts, statements_prepare
from statements.services.reissues import reissue_requests_settle
from statements.services.reissues import (  # re-exported: statements.services names it here
    statement_reissue_requested as statement_reissue_requested,
)

log = logging.getLogger(__name__)


def _dispatch_item(contract_id: int, month: date, item_id: int) -> None:
    from statements.tasks import statement_generate_task  # the tasks module imports services

    statement_generate_task.delay(contract_id, month.isoformat(), item_id)


def contracts_owed(month: date, *, now: datetime, contract_ids: list[int] | None = None):
    """Contracts in force in ``month`` with a service line, whose month has ended in
    their policy's zone and which have no issued statement for it yet."""
    issued = Statement.objects.filter(contract=OuterRef("pk"), month=month).exclude(
        status=Statement.Status.DRAFT
    )
    contracts = (
        Contract.objects.in_force_during(*month_days(month))
        .filter(lines__isnull=False)
        .exclude(Exists(issued))
        .select_related("policy__measurement_calendar")
        .distinct()
        .order_by("pk")
    )
    if contract_ids is not None:
        contracts = contracts.filter(pk__in=contract_ids)
    return [
        c for c in contracts if month_has_ended(month, c.policy.measurement_calendar.time_zone, now)
    ]


@transaction.atomic
def statements_plan(
    *,
    month: date,
    trigger: str,
    now: datetime | None = None,
    contract_ids: list[int] | None = None,
    actor: User | None = None,
    retry_of: StatementRun | None = None,
    dispatch: bool = True,
) -> StatementRun | None:
    """Claim, in a new run, every contract owed a statement for ``month`` (or those of
    ``contract_ids``) that no other run holds; one task per batch of items after commit
    (``dispatch=False``: the caller processes the items itself, as the command does).
    None when there is nothing to do."""
    now = now or timezone.now()
    month = month.replace(day=1)
    owed = contracts_owed(month, now=now, contract_ids=contract_ids)
    if actor is not None:
        owed = _acted_for(actor, owed, named=contract_ids is not None)
    if not owed:
        return None
    run = StatementRun.objects.create(
        month=month, trigger=trigger, started_at=now, created_by=actor, retry_of=retry_of
    )
    StatementRunItem.objects.bulk_create(
        [StatementRunItem(run=run, contract=c, month=month, dispatched_at=now) for c in owed],
        ignore_conflicts=True,  # claimed by another run: theirs
    )
    items = list(run.items.order_by("pk").values_list("pk", "contract_id"))
    if not items:
        run.delete()
        return None
    run.planned = len(items)
    run.save(update_fields=["planned"])
    # What every contract of a service shares this month, computed once for the run
    # (unless current already) and stored, so each item's task on any machine reads it.
    services = ContractLine.objects.filter(contract__in=run.items.values("contract_id"))
    month_facts(month, services.values_list("service_id", flat=True).distinct())
    if dispatch:
        # One task per batch (``batch_size``): it takes its item and the ones after it.
        for item_id, contract_id in items[:: batch_size(run.planned)]:
            after_commit(_dispatch_item, contract_id, month, item_id)
    log.info("statements %s (%s): %s planned", f"{month:%Y-%m}", trigger, run.planned)
    return run


def _acted_for(actor: User, contracts: list[Contract], *, named: bool) -> list[Contract]:
    """The contracts among ``contracts`` whose customer ``actor`` acts for. A person who
    named the contracts may name only those (anything else is refused, written nothing);
    a month's run by an account manager covers only their own customers' contracts."""
    if not (roles.has_role(actor, roles.ADMIN) or roles.has_role(actor, roles.ACCOUNT_MANAGER)):
        authority.require_acts_for(actor, None, what="generate its statements")
    if named:
        for contract in contracts:
            authority.require_acts_for(actor, contract.customer_id, what="generate its statements")
        return contracts
    allowed = Contract.objects.filter(authority.customers_acted_for(actor)).filter(
        pk__in=[c.pk for c in contracts]
    )
    ids = set(allowed.values_list("pk", flat=True))
    return [c for c in contracts if c.pk in ids]


# A task takes its item and the pending items after it that no other worker holds, up
# to ``batch_size``, and reads what their statements read in one go
# (``statements_prepare``): one at a time, a statement's reads cost more CPU than its
# writes, and a task per contract costs the broker and the worker more than the
# statement does. A run is cut into at least RUN_SHARES batches, so one of any size
# still spreads over the workers; a small run keeps one contract per task, its failures
# and retries its own.
BATCH_MOST = 100
RUN_SHARES = 10


def batch_size(planned: int) -> int:
    """How many of a run's items one task takes."""
    return max(1, min(BATCH_MOST, planned // RUN_SHARES))


class _Outcome(NamedTuple):
    item: StatementRunItem
    status: str
    statement: Statement | None
    error: str


def statement_run_item_process(*, item_id: int, now: datetime | None = None) -> StatementRunItem:
    """Generate the item's statement — in one batch with the pending items after it that
    no other worker holds — and record each outcome. A database outage
    (``OperationalError``) propagates, so the task retries the batch; any other error
    fails its item with its message, for staff to retry. Idempotent: a closed item is
    returned as it is; one that another worker holds is that worker's to finish."""
    item = StatementRunItem.objects.select_related("run").get(pk=item_id)
    if item.status != StatementRunItem.Status.PENDING:
        return item
    now = now or timezone.now()
    with transaction.atomic():
        batch = list(
            StatementRunItem.objects.select_for_update(skip_locked=True)
            .filter(run_id=item.run_id, status=StatementRunItem.Status.PENDING, pk__gte=item.pk)
            .order_by("pk")[: batch_size(item.run.planned)]
        )
        if batch:
            _process(batch, item.run, now)
    item.refresh_from_db()
    return item


def _process(batch: list[StatementRunItem], run: StatementRun, now: datetime) -> None:
    """Each item's statement, written from what was read for the whole batch, under the
    locks of its items and of their contracts."""
    contracts = locked_contracts([item.contract_id for item in batch])
    prepared: dict[int, Prepared] = {}
    try:
        with transaction.atomic():
            prepared = statements_prepare(list(contracts.values()), run.month, now=now)
    except OperationalError:
        raise
    except Exception:  # noqa: BLE001 — each item reads its own then, and fails on its own
        log.exception("statements %s: reading a batch failed", f"{run.month:%Y-%m}")
    outcomes = []
    for item in batch:
        contract = contracts[item.contract_id]
        outcomes.append(_generate(item, contract, run, now, prepared.get(contract.pk)))
    _finish(outcomes, run, now)


def _generate(
    item: StatementRunItem,
    contract: Contract,
    run: StatementRun,
    now: datetime,
    prepared: Prepared | None,
) -> _Outcome:
    try:
        statement = statement_generate(
            contract=contract, month=item.month, now=now, run=run, prepared=prepared
        )
    except OperationalError:
        raise
    except Exception as exc:  # noqa: BLE001 — recorded on the item; staff retry it
        if isinstance(exc, ValidationError):
            error = " ".join(exc.messages)
        else:
            error = f"{type(exc).__name__}: {exc}"
            log.exception("statement for contract %s %s failed", item.contract_id, item.month)
        return _Outcome(item, StatementRunItem.Status.FAILED, None, error[:2000])
    return _Outcome(item, StatementRunItem.Status.DONE, statement, "")


def _finish(outcomes: list[_Outcome], run: StatementRun, now: datetime) -> None:
    """Close the batch's items (each still pending: the batch holds their rows) and count
    them on their run."""
    done = [o for o in outcomes if o.status == StatementRunItem.Status.DONE]
    closed = {"finished_at": now, "attempts": F("attempts") + 1}
    if done:
        StatementRunItem.objects.filter(pk__in=[o.item.pk for o in done]).update(
            status=StatementRunItem.Status.DONE,
            error="",
            statement_id=Case(
                *(When(pk=o.item.pk, then=Value(o.statement.pk)) for o in done),
                output_field=BigIntegerField(),
            ),
            **closed,
        )
    for item, status, _, error in outcomes:
        if status != StatementRunItem.Status.DONE:
            StatementRunItem.objects.filter(pk=item.pk).update(status=status, error=error, **closed)
    runs = StatementRun.objects.filter(pk=run.pk)
    runs.update(done=F("done") + len(done), failed=F("failed") + len(outcomes) - len(done))
    runs.filter(finished_at__isnull=True, planned__lte=F("done") + F("failed")).update(
        finished_at=now
    )


def statement_run_retry(
    *, run: StatementRun, actor: User | None = None, now: datetime | None = None
) -> StatementRun | None:
    """A new run (trigger ``retry``) for the run's failed contracts still owed a
    statement; None when none is."""
    failed_items = run.items.filter(status=StatementRunItem.Status.FAILED)
    if actor is not None and failed_items.exists():
        # An account manager retries their own customers' contracts of the run; a run
        # whose failures are all other customers' is not theirs to retry.
        mine = failed_items.filter(authority.customers_acted_for(actor, "contract__customer"))
        if not mine.exists():
            authority.require_acts_for(
                actor,
                failed_items.values_list("contract__customer_id", flat=True)[0],
                what="retry its statements",
            )
        failed_items = mine
    failed = list(failed_items.values_list("contract_id", flat=True))
    if not failed:
        return None
    return statements_plan(
        month=run.month,
        trigger=StatementRun.Trigger.RETRY,
        now=now,
        contract_ids=failed,
        actor=actor,
        retry_of=run,
    )


# ---------------------------------------------------------------- the hourly tick


@dataclass
class Tick:
    runs: list[StatementRun] = field(default_factory=list)
    redispatched: int = 0
    deliveries: int = 0
    reissues: int = 0  # requests of unstated months, resolved without a person

    def as_dict(self) -> dict:
        return {
            "runs": [f"{r.month:%Y-%m}:{r.planned}" for r in self.runs],
            "redispatched": self.redispatched,
            "deliveries": self.deliveries,
            "reissues": self.reissues,
        }


def statements_tick(*, now: datetime | None = None) -> Tick:
    """Hourly: plan every month that has ended in some policy zone and still owes
    statements (the last ended month there, and up to two before it, so a scheduler
    that was down over the 1st catches up by itself, exactly once); re-dispatch lost
    claims; render and send the statements still owed their PDF or e-mail whose credits
    are all decided (``statements_deliver_owed``); resolve the re-issue requests of
    months with no issued statement (``reissue_requests_settle``; a stated month's
    request waits for staff, who re-issue or dismiss it)."""
    now = now or timezone.now()
    tick = Tick()
    for item in lost_claims(now).select_related("run"):
        updated = StatementRunItem.objects.filter(
            pk=item.pk, status=StatementRunItem.Status.PENDING, dispatched_at=item.dispatched_at
        ).update(dispatched_at=now)
        if updated:
            after_commit(_dispatch_item, item.contract_id, item.month, item.pk)
            tick.redispatched += 1
    for month, contract_ids in due_contract_months(now).items():
        run = statements_plan(
            month=month, trigger=StatementRun.Trigger.SCHEDULE, now=now, contract_ids=contract_ids
        )
        if run is not None:
            tick.runs.append(run)
    tick.deliveries = statements_deliver_owed()
    tick.reissues = reissue_requests_settle(now=now)
    return tick
