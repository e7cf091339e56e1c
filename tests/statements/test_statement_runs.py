"""The monthly run: the hourly tick plans each contract once its month has ended in its
policy's zone, catches up a missed month exactly once, claims work in the database, and
records failures for a staff retry; the command runs the same services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from outbox.models import OutboxMessage
from statements import tasks
from statements.models import Statement, StatementRun, StatementRunItem
from statements.selectors import CATCH_UP_MONTHS
from statements.services import runs as runs_module
from statements.services import statement_run_retry, statements_tick
from statements.tasks import statement_generate_task
from tests.support.factories import catalog_contract

JUNE = date(2026, 6, 1)
JULY = date(2026, 7, 1)
# June ends at 04:00 UTC in New York and at 05:00 UTC in Chicago.
NY_MIDNIGHT_PASSED = datetime(2026, 7, 1, 4, 5, tzinfo=UTC)
CHICAGO_MIDNIGHT_PASSED = datetime(2026, 7, 1, 5, 5, tzinfo=UTC)


@pytest.fixture
def contracts(catalog, customer, other_customer, statement_media):
    """A New York (tiered) and a Chicago (multiplier) contract, both from June 2026."""
    return {
        "new_york": catalog_contract(
            customer, "heretto-ccms", {"Heretto CCMS": "4000.00"}, start=JUNE, reference="C-NY"
        ),
        "chicago": catalog_contract(
            other_customer,
            "balto-uptime",
            {"Balto Platform": "3000.00"},
            start=JUNE,
            reference="C-CHI",
        ),
    }


def tick(now, capture):
    """One tick at ``now``, its tasks run in-process at the same (frozen) time."""
    with time_machine.travel(now, tick=False), capture(execute=True):
        return statements_tick()


def references(month: date) -> list[str]:
    return sorted(
        Statement.objects.filter(month=month).values_list("contract__reference", flat=True)
    )


def test_the_tick_picks_only_contracts_whose_month_ended_in_their_zone(
    contracts, celery_eager, django_capture_on_commit_callbacks
):
    before = tick(datetime(2026, 7, 1, 3, 55, tzinfo=UTC), django_capture_on_commit_callbacks)
    assert before.runs == [] and not Statement.objects.exists()

    at_four = tick(NY_MIDNIGHT_PASSED, django_capture_on_commit_callbacks)
    assert [(r.month, r.trigger, r.planned) for r in at_four.runs] == [(JUNE, "schedule", 1)]
    assert references(JUNE) == ["C-NY"]

    at_five = tick(CHICAGO_MIDNIGHT_PASSED, django_capture_on_commit_callbacks)
    assert [r.planned for r in at_five.runs] == [1]
    assert references(JUNE) == ["C-CHI", "C-NY"]
    for run in StatementRun.objects.all():
        assert (run.done, run.failed, run.finished_at is not None) == (1, 0, True)


def test_running_the_tick_again_creates_nothing_and_sends_nothing(
    contracts, celery_eager, django_capture_on_commit_callbacks
):
    tick(CHICAGO_MIDNIGHT_PASSED, django_capture_on_commit_callbacks)
    statements = list(Statement.objects.values_list("pk", "number"))
    assert len(statements) == 2
    assert OutboxMessage.objects.count() == 2  # no outage: no credit, sent at once
    for hours in (1, 2, 30):
        again = tick(
            CHICAGO_MIDNIGHT_PASSED + timedelta(hours=hours), django_capture_on_commit_callbacks
        )
        assert again.runs == [] and again.redispatched == 0
    assert list(Statement.objects.values_list("pk", "number")) == statements
    assert OutboxMessage.objects.count() == 2
    assert StatementRun.objects.count() == 1


def test_a_scheduler_down_over_two_firsts_catches_up_each_month_exactly_once(
    contracts, celery_eager, django_capture_on_commit_callbacks
):
    back = tick(datetime(2026, 8, 20, 9, tzinfo=UTC), django_capture_on_commit_callbacks)
    assert sorted((r.month, r.planned) for r in back.runs) == [(JUNE, 2), (JULY, 2)]
    assert references(JUNE) == references(JULY) == ["C-CHI", "C-NY"]
    again = tick(datetime(2026, 8, 20, 10, tzinfo=UTC), django_capture_on_commit_callbacks)
    assert again.runs == []
    assert Statement.objects.count() == 4


def test_a_pending_claim_is_not_planned_twice_and_a_lost_one_is_dispatched_again(
    contracts, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:  # dispatched, never run
        first = statements_tick(now=CHICAGO_MIDNIGHT_PASSED)
    assert len(queued) == 2 and [r.planned for r in first.runs] == [2]
    with django_capture_on_commit_callbacks() as queued:
        second = statements_tick(now=CHICAGO_MIDNIGHT_PASSED + timedelta(minutes=30))
    assert second.runs == [] and second.redispatched == 0 and queued == []
    later = tick(CHICAGO_MIDNIGHT_PASSED + timedelta(hours=2), django_capture_on_commit_callbacks)
    assert later.redispatched == 2 and later.runs == []
    assert references(JUNE) == ["C-CHI", "C-NY"]
    [run] = StatementRun.objects.all()
    assert (run.planned, run.done, run.failed) == (2, 2, 0)


def test_a_task_delivered_twice_counts_once(
    contracts, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        statements_tick(now=CHICAGO_MIDNIGHT_PASSED)
    item = StatementRunItem.objects.get(contract=contracts["new_york"])
    args = [item.contract_id, JUNE.isoformat(), item.pk]
    with time_machine.travel(CHICAGO_MIDNIGHT_PASSED, tick=False):
        assert statement_generate_task.apply(args=args).get() == "done"
        assert statement_generate_task.apply(args=args).get() == "done"
    run = item.run
    run.refresh_from_db()
    assert (run.done, run.failed) == (1, 0)
    assert Statement.objects.filter(contract=contracts["new_york"]).count() == 1


def test_a_failure_is_recorded_waits_for_a_staff_retry_and_the_retry_succeeds(
    contracts, celery_eager, django_capture_on_commit_callbacks, monkeypatch
):
    real = runs_module.statement_generate

    def broken(*, contract, **kw):
        if contract.reference == "C-CHI":
            raise RuntimeError("PDF storage is full")
        return real(contract=contract, **kw)

    monkeypatch.setattr(runs_module, "statement_generate", broken)
    first = tick(CHICAGO_MIDNIGHT_PASSED, django_capture_on_commit_callbacks).runs[0]
    first.refresh_from_db()
    assert (first.planned, first.done, first.failed) == (2, 1, 1)
    assert first.finished_at == CHICAGO_MIDNIGHT_PASSED
    failed = first.items.get(status="failed")
    assert failed.error == "RuntimeError: PDF storage is full"
    # The hourly tick leaves a failure to staff rather than failing again every hour.
    assert (
        tick(CHICAGO_MIDNIGHT_PASSED + timedelta(hours=1), django_capture_on_commit_callbacks).runs
        == []
    )

    monkeypatch.setattr(runs_module, "statement_generate", real)
    with (
        time_machine.travel(CHICAGO_MIDNIGHT_PASSED + timedelta(hours=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        retry = statement_run_retry(run=first)
    retry.refresh_from_db()
    assert (retry.trigger, retry.retry_of, retry.planned, retry.done) == ("retry", first, 1, 1)
    assert references(JUNE) == ["C-CHI", "C-NY"]
    assert statement_run_retry(run=first) is None  # nothing left owed


@time_machine.travel(CHICAGO_MIDNIGHT_PASSED, tick=False)
def test_the_command_lists_generates_and_then_finds_nothing_to_do(contracts, celery_eager):
    out = StringIO()
    call_command("generate_statements", "--month", "2026-06", "--dry-run", stdout=out)
    assert "would generate 2026-06 for C-NY" in out.getvalue()
    assert "2 statement(s) to generate; nothing written." in out.getvalue()
    assert not Statement.objects.exists()

    out = StringIO()
    call_command(
        "generate_statements",
        "--month",
        "2026-06",
        "--contract",
        str(contracts["new_york"].pk),
        stdout=out,
    )
    assert "1/1 statements (0 failed)" in out.getvalue()
    assert "1 done, 0 failed." in out.getvalue()
    assert references(JUNE) == ["C-NY"]
    assert StatementRun.objects.get().trigger == "command"

    call_command("generate_statements", "--month", "2026-06", stdout=StringIO())
    out = StringIO()
    call_command("generate_statements", "--month", "2026-06", stdout=out)
    assert "Nothing to do" in out.getvalue()
    assert references(JUNE) == ["C-CHI", "C-NY"]
    with pytest.raises(CommandError, match="not a month"):
        call_command("generate_statements", "--month", "June")


def test_setup_schedules_rewrites_a_stored_tick_that_names_the_task_by_its_old_name(db):
    # Before the tasks were named after their services, the tick was "statements_tick".
    call_command("setup_schedules", verbosity=0)
    PeriodicTask.objects.filter(task="statements.tasks.statements_tick_task").update(
        task="statements.tasks.statements_tick"
    )
    call_command("setup_schedules", verbosity=0)
    assert not PeriodicTask.objects.filter(task="statements.tasks.statements_tick").exists()
    assert PeriodicTask.objects.filter(task="statements.tasks.statements_tick_task").count() == 1


def test_setup_schedules_writes_the_hourly_statements_tick(db):
    call_command("setup_schedules", verbosity=0)
    task = PeriodicTask.objects.get(task="statements.tasks.statements_tick_task")
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("5", "*", "UTC")
    assert task.enabled


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _ended_by(zone: str, moment: datetime) -> set[date]:
    """The tick's catch-up window at ``moment``: the three latest months that have ended
    in ``zone`` (the month in progress there is the one its local calendar shows)."""
    current = moment.astimezone(ZoneInfo(zone)).date().replace(day=1)
    return {_months_back(current, n) for n in range(1, CATCH_UP_MONTHS + 1)}


@pytest.mark.edges
def test_at_any_instant_the_tick_issues_exactly_the_months_ended_in_each_policys_zone(
    catalog,
    customer,
    other_customer,
    statement_media,
    celery_eager,
    django_capture_on_commit_callbacks,
    frozen_now,
):
    """The scheduled task a second before the suite's instant and at it: each contract
    gets the months ended in its policy's zone by then (within the catch-up window), not
    the month in progress there, each once; ticking again issues nothing."""
    since = date(frozen_now.year - 1, frozen_now.month, 1)
    zones = {"C-NY": "America/New_York", "C-CHI": "America/Chicago"}
    for owner, (reference, code, service) in zip(
        (customer, other_customer),
        (("C-NY", "heretto-ccms", "Heretto CCMS"), ("C-CHI", "balto-uptime", "Balto Platform")),
        strict=True,
    ):
        catalog_contract(owner, code, {service: "1000.00"}, start=since, reference=reference)

    def issued() -> dict[str, set[date]]:
        found: dict[str, set[date]] = {reference: set() for reference in zones}
        for reference, month in Statement.objects.filter(status="issued").values_list(
            "contract__reference", "month"
        ):
            found[reference].add(month)
        return found

    before = frozen_now - timedelta(seconds=1)
    with time_machine.travel(before, tick=False), django_capture_on_commit_callbacks(execute=True):
        tasks.statements_tick()
    assert issued() == {ref: _ended_by(zone, before) for ref, zone in zones.items()}
    with django_capture_on_commit_callbacks(execute=True):
        tasks.statements_tick()
        tasks.statements_tick()
    assert issued() == {
        ref: _ended_by(zone, before) | _ended_by(zone, frozen_now) for ref, zone in zones.items()
    }
    assert Statement.objects.count() == sum(map(len, issued().values()))
    assert OutboxMessage.objects.count() == Statement.objects.count()  # no credit: sent at once
