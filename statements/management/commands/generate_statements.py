"""``manage.py generate_statements --month YYYY-MM [--contract ID] [--dry-run]``: the
monthly run by hand, in this process, through the same services as the scheduled job
(a run with trigger ``command``; statements already issued are left alone)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from slaportal.months import parse_month
from statements.models import StatementRun, StatementRunItem
from statements.services import contracts_owed, statement_run_item_process, statements_plan


class Command(BaseCommand):
    help = "Generate the month's statements for every contract still owed one."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--contract", type=int, action="append", help="a contract id")
        parser.add_argument(
            "--dry-run", action="store_true", help="list the contracts; write nothing"
        )

    def handle(self, *args, month: str, contract: list[int] | None, dry_run: bool, **options):
        try:
            first = parse_month(month)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        now = timezone.now()
        if dry_run:
            owed = contracts_owed(first, now=now, contract_ids=contract)
            for item in owed:
                self.stdout.write(f"would generate {first:%Y-%m} for {item.reference} ({item.pk})")
            self.stdout.write(f"{len(owed)} statement(s) to generate; nothing written.")
            return
        run = statements_plan(
            month=first,
            trigger=StatementRun.Trigger.COMMAND,
            now=now,
            contract_ids=contract,
            dispatch=False,
        )
        if run is None:
            self.stdout.write("Nothing to do: every contract has its statement (or is claimed).")
            return
        items = list(run.items.values_list("pk", flat=True))
        failures = []
        for index, item_id in enumerate(items, start=1):
            item = statement_run_item_process(item_id=item_id)
            if item.status == StatementRunItem.Status.FAILED:
                failures.append(f"contract {item.contract_id}: {item.error}")
            self._progress(index, len(items), len(failures))
        run.refresh_from_db()
        self.stdout.write("")
        for line in failures:
            self.stderr.write(f"failed: {line}")
        self.stdout.write(f"Run {run.pk}: {run.done} done, {run.failed} failed.")
        if run.failed:
            raise CommandError(f"{run.failed} statement(s) failed; retry the run once fixed.")

    def _progress(self, done: int, total: int, failed: int) -> None:
        # One line rewritten in place on a terminal; a plain line per 10 % otherwise.
        line = f"{done}/{total} statements ({failed} failed)"
        if sys.stdout.isatty():
            self.stdout.write(f"\r{line}", ending="")
        elif done == total or done % max(total // 10, 1) == 0:
            self.stdout.write(line)
