"""Demo statements: every demo contract's statements over the demo's three months.

Contracts start on the first day three months back: three ended months are stated
(outages and tickets fall in the last two and the current one), and the current month
gets a staff draft. Each ended month is issued through the monthly run's own
services (a run with trigger ``command`` per month, in month order), so the back office
shows the runs; the current month is a staff draft (a preview, replaced when the month
is issued by the hourly tick).

So that the demo shows every outcome, the account manager decides the credits the new
statements computed: the last one stays pending (the approval queue is not empty), the
one before it is rejected with a reason, and the others are approved. Each decision
renders the statement's PDF and e-mails it through the outbox (a statement without a
credit is rendered and sent at once); in demo mode, Celery is eager, so this happens
in-process and the PDFs land under ``MEDIA_ROOT``.

Idempotent: a month already issued plans nothing, decisions are taken only on the
credits of statements issued by this call, and a stored PDF or a queued e-mail is
never made twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from contracts.models import Contract, User
from credits.models import Credit
from credits.services import credit_approve, credit_reject
from outages.demo import _month_back
from slaportal.months import month_days, month_has_ended
from statements.models import Statement, StatementCredit, StatementRun
from statements.selectors import current_statement
from statements.services import (
    statement_generate,
    statement_render,
    statement_run_item_process,
    statements_plan,
)

ACCOUNT_MANAGER = "am@provider.example"
REJECTION = (
    "Waived by agreement with the customer: the affected work was re-run the same day "
    "at no cost to them, and the service review of the month recorded no business impact."
)


@dataclass(frozen=True)
class DemoStatements:
    issued: int  # issued by this call
    pdfs: int  # stored PDFs of issued statements (all of them)
    pending: int  # credits awaiting the account manager (all of them)
    drafts: int  # current-month previews made by this call


def _issue(month: date, now: datetime) -> list[Statement]:
    run = statements_plan(
        month=month, trigger=StatementRun.Trigger.COMMAND, now=now, dispatch=False
    )
    if run is None:
        return []
    items = [
        statement_run_item_process(item_id=pk, now=now)
        for pk in run.items.order_by("contract_id").values_list("pk", flat=True)
    ]
    return [item.statement for item in items if item.statement_id]


def _draft(month: date, now: datetime) -> int:
    made = 0
    for contract in Contract.objects.select_related("policy__measurement_calendar").order_by("pk"):
        if current_statement(contract, month) is not None:
            continue
        if contract.days_in_force(*month_days(month)) is None:
            continue
        statement_generate(contract=contract, month=month, now=now, draft=True)
        made += 1
    return made


def _decide(statements: list[Statement], now: datetime) -> None:
    """Approve, reject one, leave the last pending — only the credits just computed."""
    credits = list(
        Credit.objects.filter(
            pk__in=StatementCredit.objects.filter(statement__in=statements).values("credit_id"),
            status=Credit.Status.PENDING,
        )
        .select_related("contract")
        .order_by("month", "contract_id", "service_id")
    )
    manager = User.objects.get(username=ACCOUNT_MANAGER)
    *decided, _pending = credits or [None]
    for position, credit in enumerate(decided):
        if len(credits) >= 3 and position == len(decided) - 1:
            credit_reject(credit=credit, actor=manager, reason=REJECTION, now=now)
        else:
            credit_approve(credit=credit, actor=manager, now=now)


def demo_statements(*, today: date, now: datetime) -> DemoStatements:
    issued: list[Statement] = []
    drafts = 0
    for back in (3, 2, 1, 0):
        month = _month_back(today, back)
        zones = Contract.objects.values_list(
            "policy__measurement_calendar__time_zone", flat=True
        ).distinct()
        if any(month_has_ended(month, zone, now) for zone in zones):
            issued += _issue(month, now)  # contracts whose zone has not ended it wait
        if not all(month_has_ended(month, zone, now) for zone in zones):
            drafts += _draft(month, now)
    _decide(issued, now)
    # The decisions render and send after their commit (eager Celery); rendering here
    # too is idempotent, and covers a caller whose commits do not run the hooks.
    for statement in issued:
        statement_render(statement_id=statement.pk, now=now)
    stored = Statement.objects.filter(status=Statement.Status.ISSUED).exclude(pdf="")
    return DemoStatements(
        issued=len(issued),
        pdfs=stored.count(),
        pending=Credit.objects.filter(status=Credit.Status.PENDING).count(),
        drafts=drafts,
    )
