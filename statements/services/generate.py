"""Generate a month's statement, preview it as a draft, and re-issue it.

Life cycle. The monthly run issues each statement directly (status ``issued``): the
month has ended, the figures are final, and the credits it computes go to the account
manager. Staff may preview a month as a ``draft`` (also a month still running); a
draft computes no credit (it shows what the rules would give), is regenerated on each
request and is replaced when the month is issued. An issued statement is never
changed (database triggers); a correction is ``statement_reissue``: revision n + 1,
the previous one superseded, new credits for the account manager.

Idempotent under concurrency: every write for a contract-month runs under a lock on
the contract's row, and the database keeps one current statement per contract and
month (partial unique index), so two workers given the same contract produce one
statement and the second returns it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from contracts.models import Contract, User
from credits.models import Credit
from credits.rules import CreditCase, compute_credit
from credits.selectors import credit_terms
from credits.services import credit_compute
from outages.models import Outage
from outages.selectors import ServiceMonth
from slaportal import authority
from slaportal.months import month_days, month_has_ended
from slaportal.transactions import after_commit
from statements.models import Statement, StatementCredit, StatementRun
from statements.selectors import current_statement, support_attainment
from statements.services.delivery import dispatch_render
from statements.services.prepare import Prepared, locked_contracts, statements_prepare
from statements.snapshot import OutageTimes, build_snapshot, services_section
from statements.webhooks import emit_issued


def statement_number(month: date, contract_id: int, revision: int) -> str:
    """``ST-2026-06-000123``; a re-issue adds its revision: ``ST-2026-06-000123-R2``.
    Derived from what makes a statement unique, so a retried job cannot mint a second
    number for the same document."""
    number = f"ST-{month:%Y-%m}-{contract_id:06d}"
    return number if revision == 1 else f"{number}-R{revision}"


def _provider() -> dict:
    return {
        "name": settings.PROVIDER_NAME,
        "address": list(settings.PROVIDER_ADDRESS),
        "email": settings.PROVIDER_EMAIL,
    }


def _outage_times(rows: list[ServiceMonth]) -> dict[int, OutageTimes]:
    """The recorded times of the outages the figures give a verdict on, for rows that do
    not carry the month's facts they were computed from (``ServiceMonth.outages``, which
    the snapshot reads first)."""
    missing = {v.outage_id for row in rows if not row.outages for v in row.result.verdicts}
    if not missing:
        return {}
    return {
        pk: OutageTimes(started, ended, confirmed)
        for pk, started, ended, confirmed in Outage.objects.filter(pk__in=missing).values_list(
            "pk", "started_at", "ended_at", "confirmed_at"
        )
    }


def _preview(contract: Contract, rows: list[ServiceMonth]) -> list[dict]:
    """A draft's credits as the rules give them; eligibility is checked when issued."""
    terms = credit_terms(contract.policy)
    preview = []
    for row in rows:
        figures_ = row.result
        result = compute_credit(
            terms,
            CreditCase(
                availability=figures_.availability,
                denominator_seconds=figures_.denominator_seconds,
                downtime_seconds=figures_.downtime_seconds,
                monthly_fee=row.monthly_fee,
                share_of_month=figures_.share_of_month,
                currency=contract.currency,
                service=row.service.name,
            ),
        )
        if result.amount > 0:
            data = result.as_dict()
            preview.append(
                {
                    "service_id": row.service.pk,
                    "service": row.service.name,
                    "amount": data["amount"],
                    "band": data["band"],
                    "working": data["working"],
                }
            )
    return preview


def _require_active(contract: Contract, month: date) -> None:
    if contract.days_in_force(*month_days(month)) is None:
        raise ValidationError(
            {"month": [f"Contract {contract.reference} was not in force in {month:%B %Y}."]}
        )


def _locked(contract: Contract) -> Contract:
    return locked_contracts([contract.pk])[contract.pk]


def _write(
    contract: Contract,
    month: date,
    now: datetime,
    prepared: Prepared,
    *,
    revision: int,
    draft: bool,
    run: StatementRun | None,
    actor: User | None,
    supersedes: Statement | None = None,
    reason: str = "",
) -> Statement:
    """Compute and write one statement from what was read for it (the caller holds the
    contract's lock)."""
    rows = prepared.rows
    credits: list[Credit] = []
    preview = None
    if draft:
        preview = _preview(contract, rows)
    else:
        credits = credit_compute(
            contract=contract,
            month=month,
            now=now,
            revision=revision,
            rows=rows,
            statement_number=statement_number(month, contract.pk, revision),
            inputs=prepared.credits,
        )
    replaces = None
    if supersedes is not None:
        replaces = {
            "id": supersedes.pk,
            "number": supersedes.number,
            "revision": supersedes.revision,
            "issued_at": supersedes.issued_at.isoformat(),
        }
    snapshot = build_snapshot(
        contract=contract,
        month=month,
        rows=rows,
        outage_times=_outage_times(rows),
        credits=credits,
        support=support_attainment(contract, month, now=now, tickets=prepared.tickets),
        provider=_provider(),
        generated_at=now,
        replaces=replaces,
        preview=preview,
    )
    statement = Statement.objects.create(
        contract=contract,
        month=month,
        number=statement_number(month, contract.pk, revision),
        revision=revision,
        status=Statement.Status.DRAFT if draft else Statement.Status.ISSUED,
        reason=reason[:300],
        snapshot=snapshot,
        credit_amount=Decimal(snapshot["credit_total"]),
        currency=contract.currency,
        created_at=now,
        issued_at=None if draft else now,
        supersedes=supersedes,
        run=run,
        created_by=actor,
    )
    StatementCredit.objects.bulk_create(
        StatementCredit(statement=statement, credit=credit) for credit in credits
    )
    if not draft:
        emit_issued(
            statement,
            [credit.pk for credit in credits],
            now=now,
            endpoints=prepared.endpoints,
        )
        # After commit: a rolled-back statement is never rendered, and the task finds
        # the row. robust: a broker outage must not undo the statement; the task is then
        # lost, and the next tick's sweep (``statements_deliver_owed``) delivers it.
        after_commit(dispatch_render, statement.pk)
    return statement


def statement_generate(
    *,
    contract: Contract,
    month: date,
    now: datetime | None = None,
    run: StatementRun | None = None,
    draft: bool = False,
    actor: User | None = None,
    prepared: Prepared | None = None,
) -> Statement:
    """The contract's statement for ``month`` (any date in it).

    Issued (the default): the month must have ended in the policy's zone; the month's
    credits are computed (pending for the account manager), and the PDF is rendered
    after commit once no credit awaits a decision. Idempotent: an issued statement of
    the month is returned unchanged. ``draft=True``: a staff preview, replaced on each
    call (once the month is issued, the issued statement is returned instead).
    ``prepared``: the contract's share of ``statements_prepare``, read by a caller that
    holds the contract's lock (the monthly run's batch); without it, this locks the
    contract and reads them itself.
    """
    authority.require_acts_for(actor, contract.customer_id, what="generate its statements")
    now = now or timezone.now()
    month = month.replace(day=1)
    existing = prepared.current if prepared is not None else current_statement(contract, month)
    if existing is not None and existing.status != Statement.Status.DRAFT:
        return existing
    zone = contract.policy.measurement_calendar.time_zone
    if not draft and not month_has_ended(month, zone, now):
        raise ValidationError(
            {"month": [f"{month:%B %Y} has not ended yet in {zone}; preview it as a draft."]}
        )
    _require_active(contract, month)
    try:
        with transaction.atomic():
            if prepared is None:
                contract = _locked(contract)
                prepared = statements_prepare([contract], month, now=now)[contract.pk]
                existing = prepared.current
            if existing is not None:
                if existing.status != Statement.Status.DRAFT:
                    return existing  # issued by another worker while we waited
                existing.delete()  # a draft is replaced by the new preview or the issue
            return _write(
                contract, month, now, prepared, revision=1, draft=draft, run=run, actor=actor
            )
    except IntegrityError:
        # Backstop for databases without row locks: the unique index let one through.
        theirs = current_statement(contract, month)
        if theirs is None or theirs.status == Statement.Status.DRAFT:
            raise
        return theirs


def statement_reissue(
    *,
    contract: Contract,
    month: date,
    now: datetime | None = None,
    actor: User | None = None,
    reason: str = "",
    force: bool = False,
) -> Statement:
    """Measure an issued month again. When its availability figures changed (or
    ``force``): revision n + 1 is issued, the current one is superseded, and the new
    revision's credits go to the account manager — an earlier credit still pending is
    withdrawn, and approving the new one reverses what the earlier one granted
    (``credits.services.credit_approve``). The new statement's e-mail says which one it
    replaces. Nothing changed: the current statement is returned as it is."""
    authority.require_acts_for(actor, contract.customer_id, what="re-issue its statements")
    now = now or timezone.now()
    month = month.replace(day=1)
    with transaction.atomic():
        locked = _locked(contract)
        current = current_statement(locked, month)
        if current is None or current.status == Statement.Status.DRAFT:
            raise ValidationError(
                {"month": [f"{month:%B %Y} has no issued statement to re-issue; generate it."]}
            )
        revision = current.revision + 1
        prepared = statements_prepare([locked], month, now=now, revision=revision)[locked.pk]
        rows = prepared.rows
        if not force:
            candidate = services_section(locked, rows, _outage_times(rows))
            if candidate == current.snapshot["services"]:
                return current
        # Superseded first: the database allows one current statement per month.
        Statement.objects.filter(pk=current.pk).update(status=Statement.Status.SUPERSEDED)
        current.status = Statement.Status.SUPERSEDED
        if not current.pdf:
            # It waited for a credit that is now withdrawn: render it for the record
            # (a superseded statement is never e-mailed).
            after_commit(dispatch_render, current.pk)
        reason = reason or "Re-issued: the month's figures changed."
        statement = _write(
            locked,
            month,
            now,
            prepared,
            revision=revision,
            draft=False,
            run=None,
            actor=actor,
            supersedes=current,
            reason=reason,
        )
        audit_record(
            actor=actor,
            action="statement.reissue",
            obj=statement,
            changes={
                "revision": {"before": current.revision, "after": statement.revision},
                "credit_amount": {
                    "before": str(current.credit_amount),
                    "after": str(statement.credit_amount),
                },
            },
            reason=reason,
            at=now,
        )
        return statement
