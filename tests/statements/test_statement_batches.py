"""The monthly run on the bulk path: the shared facts of each service's month computed
once, when the run is planned; a task takes a batch of the run's items and reads what
their statements read in a fixed number of queries, then writes each statement as the
one-contract path would, to the cent."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from credits.models import Credit
from statements.models import Statement, StatementRun, StatementRunItem
from statements.services import runs as runs_module
from statements.services import statement_generate, statement_run_item_process, statements_plan
from tests.support.concurrency import run_concurrently
from tests.support.factories import CustomerFactory, catalog_contract, record_outage

JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
ET = ZoneInfo("America/New_York")


@pytest.fixture
def batches(monkeypatch):
    """A task takes up to ``size`` items, however small the run."""

    def size(most: int) -> None:
        monkeypatch.setattr(runs_module, "BATCH_MOST", most)
        monkeypatch.setattr(runs_module, "RUN_SHARES", 1)

    return size


def _contracts(count: int, policy: str = "heretto-ccms", service: str = "Heretto CCMS"):
    return [
        catalog_contract(CustomerFactory(), policy, {service: "4000.00"}, start=JUNE)
        for _ in range(count)
    ]


@pytest.fixture
def month(catalog, statement_media):
    """Contracts of two policies, a shared outage, and outages scoped to some customers."""
    tiered = _contracts(3)
    multiplier = _contracts(2, "balto-uptime", "Balto Platform")
    record_outage(tiered[0], "Heretto CCMS", datetime(2026, 6, 10, 12, tzinfo=ET), 300)
    record_outage(multiplier[0], "Balto Platform", datetime(2026, 6, 9, 10, tzinfo=ET), 240)
    for contract, service in ((tiered[1], "Heretto CCMS"), (multiplier[1], "Balto Platform")):
        record_outage(
            contract,
            service,
            datetime(2026, 6, 18, 11, tzinfo=ET),
            180,
            scope="customers",
            customers=[contract.customer],
        )
    return tiered + multiplier


def _figures(statement: Statement) -> dict:
    """What a statement says, less what names its own rows (ids, generation instant)."""
    snapshot = statement.snapshot
    credits = [{k: v for k, v in c.items() if k != "credit_id"} for c in snapshot["credits"]]
    return {
        "services": snapshot["services"],
        "credits": credits,
        "credit_total": snapshot["credit_total"],
        "credit_amount": statement.credit_amount,
    }


def test_a_batch_writes_the_statements_the_one_contract_path_writes(month, batches):
    with transaction.atomic():
        alone = {c.pk: _figures(statement_generate(contract=c, month=JUNE, now=NOW)) for c in month}
        transaction.set_rollback(True)
    batches(len(month))
    run = statements_plan(month=JUNE, trigger="command", now=NOW, dispatch=False)
    first = run.items.order_by("pk").first()
    statement_run_item_process(item_id=first.pk, now=NOW)  # the whole run, one task
    run.refresh_from_db()
    assert (run.planned, run.done, run.failed) == (5, 5, 0)
    batched = {s.contract_id: _figures(s) for s in Statement.objects.filter(month=JUNE)}
    assert batched == alone
    assert {a["credit_total"] for a in alone.values()} != {"0.00"}  # credits were at stake


def _process(contracts, batches) -> CaptureQueriesContext:
    batches(len(contracts))
    run = statements_plan(
        month=JUNE,
        trigger="command",
        now=NOW,
        contract_ids=[c.pk for c in contracts],
        dispatch=False,
    )
    first = run.items.order_by("pk").first()
    with CaptureQueriesContext(connection) as queries:
        statement_run_item_process(item_id=first.pk, now=NOW)
    assert run.items.filter(status=StatementRunItem.Status.DONE).count() == len(contracts)
    return queries


def test_the_shared_facts_are_computed_once_when_the_run_is_planned(catalog, batches):
    contracts = _contracts(4)
    record_outage(contracts[0], "Heretto CCMS", datetime(2026, 6, 10, 12, tzinfo=ET), 300)
    batches(2)
    with CaptureQueriesContext(connection) as planning:
        run = statements_plan(month=JUNE, trigger="command", now=NOW, dispatch=False)
    counted = [q for q in planning.captured_queries if "COUNT(DISTINCT" in q["sql"]]
    assert len(counted) == 1  # the service's customers, once for the run
    with CaptureQueriesContext(connection) as processing:
        for item in run.items.order_by("pk"):
            statement_run_item_process(item_id=item.pk, now=NOW)
    assert not any("COUNT(DISTINCT" in q["sql"] for q in processing.captured_queries)
    assert not any('FROM "outages_outage"' in q["sql"] for q in processing.captured_queries)
    assert Statement.objects.filter(month=JUNE).count() == 4


def test_a_batch_costs_a_fixed_number_of_queries_and_the_same_few_per_statement(catalog, batches):
    contracts = _contracts(12)
    record_outage(contracts[0], "Heretto CCMS", datetime(2026, 6, 10, 12, tzinfo=ET), 300)
    two, four, six = (
        len(_process(group, batches)) for group in (contracts[:2], contracts[2:6], contracts[6:])
    )
    per_statement = (four - two) // 2
    assert four - two == six - four == 2 * per_statement  # linear: a constant per statement
    assert per_statement <= 10


def test_a_failure_in_a_batch_fails_only_its_item(month, batches, monkeypatch):
    real = runs_module.statement_generate
    broken_pk = month[2].pk

    def broken(*, contract, **kw):
        if contract.pk == broken_pk:
            raise RuntimeError("PDF storage is full")
        return real(contract=contract, **kw)

    monkeypatch.setattr(runs_module, "statement_generate", broken)
    batches(len(month))
    run = statements_plan(month=JUNE, trigger="command", now=NOW, dispatch=False)
    statement_run_item_process(item_id=run.items.order_by("pk").first().pk, now=NOW)
    run.refresh_from_db()
    assert (run.planned, run.done, run.failed, run.finished_at) == (5, 4, 1, NOW)
    failed = run.items.get(status=StatementRunItem.Status.FAILED)
    assert (failed.contract_id, failed.error) == (broken_pk, "RuntimeError: PDF storage is full")
    assert Statement.objects.filter(month=JUNE).count() == 4


def test_a_big_run_dispatches_a_task_per_batch_and_each_counts_once(
    catalog, statement_media, batches, django_capture_on_commit_callbacks, monkeypatch
):
    contracts = _contracts(5)
    batches(2)
    dispatched = []
    monkeypatch.setattr(runs_module, "_dispatch_item", lambda *args: dispatched.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        run = statements_plan(month=JUNE, trigger="schedule", now=NOW)
    items = list(run.items.order_by("pk").values_list("pk", flat=True))
    assert [item for _, _, item in dispatched] == items[::2]
    for _, _, item in dispatched * 2:  # each delivered twice
        statement_run_item_process(item_id=item, now=NOW)
    run = StatementRun.objects.get(pk=run.pk)
    assert (run.done, run.failed) == (5, 0)
    assert Statement.objects.filter(contract__in=contracts, month=JUNE).count() == 5


def test_the_stored_snapshot_is_the_snapshot_encoded_once(month):
    statement = statement_generate(contract=month[0], month=JUNE, now=NOW)
    built = statement.snapshot
    assert json.dumps(dict(built)) == built.text  # the text assembled from shared parts
    statement.refresh_from_db()
    assert statement.snapshot == json.loads(built.text) == built


def test_workers_taking_batches_at_once_issue_each_statement_once(
    postgres, transactional_db, catalog, statement_media, batches
):
    """Real threads on PostgreSQL: each worker is handed every item's task, in its own
    order; the row locks (``SKIP LOCKED``) give each item to one batch."""
    contracts = _contracts(6)
    record_outage(contracts[0], "Heretto CCMS", datetime(2026, 6, 10, 12, tzinfo=ET), 300)
    batches(2)
    run = statements_plan(month=JUNE, trigger="command", now=NOW, dispatch=False)
    items = list(run.items.order_by("pk").values_list("pk", flat=True))

    def worker(i: int) -> None:
        for item in items if i % 2 else items[::-1]:
            statement_run_item_process(item_id=item, now=NOW)

    assert run_concurrently(worker, 4) == [None] * 4
    run.refresh_from_db()
    assert (run.planned, run.done, run.failed) == (6, 6, 0)
    issued = Statement.objects.filter(month=JUNE)
    assert sorted(issued.values_list("contract_id", flat=True)) == [c.pk for c in contracts]
    assert Credit.objects.filter(month=JUNE).count() == 6  # one each, none twice
