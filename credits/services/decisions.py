"""Compute a contract-month's credits, and the account manager's decision on each."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from contracts.models import Contract, SLAPolicy, User
from credits.models import Credit, CreditEvent, LedgerEntry
from credits.rules import CreditCase, compute_credit
from credits.selectors import credit_terms
from credits.services._common import locked_balance, post, require_account_manager, require_reason
from credits.services.application import credits_apply
from credits.services.ledger import ledger_reverse
from credits.signals import credit_decided
from credits.webhooks import emit_credit
from outages.availability import Availability
from outages.models import Outage
from outages.screening import downtime_start
from outages.selectors import ServiceMonth, contract_availability
from slaportal.formatting import minutes_text, percent_cut
from slaportal.months import local_date

ALREADY = {
    Credit.Status.APPROVED: "This credit is already approved.",
    Credit.Status.REJECTED: "This credit is already rejected.",
    Credit.Status.INELIGIBLE: "This credit is not eligible; there is nothing to decide.",
}


def _first_downtime(policy: SLAPolicy, result: Availability) -> datetime | None:
    """When the first counted downtime began (from confirmation where the policy says so),
    clipped to the measured period."""
    counted = [v.outage_id for v in result.verdicts if v.counted]
    starts = []
    from_confirmation = policy.downtime_starts_at == SLAPolicy.DowntimeStart.CONFIRMATION
    for outage in Outage.objects.filter(pk__in=counted):
        start = downtime_start(
            outage.started_at, outage.confirmed_at, from_confirmation=from_confirmation
        )
        if start is not None:  # None: no longer confirmed since it was measured
            starts.append(max(start, result.period_start))
    return min(starts, default=None)


def _unpaid_before(contract: Contract, downtime_start: datetime | None, zone: str) -> list[str]:
    """Numbers of the contract's invoices that fell due before the downtime and were not
    paid by then (the multiplier SLA's "paid any outstanding invoices")."""
    if downtime_start is None:
        return []
    day = downtime_start.astimezone(ZoneInfo(zone)).date()
    return list(
        contract.invoices.filter(due_on__lt=day)
        .filter(Q(paid_at__isnull=True) | Q(paid_at__gt=downtime_start))
        .order_by("due_on", "number")
        .values_list("number", flat=True)
    )


def _working(row: ServiceMonth, policy: SLAPolicy, result_dict: dict) -> dict:
    figures = row.result
    return {
        **result_dict,
        "availability": {
            "exact": f"{figures.availability.numerator}/{figures.availability.denominator}",
            "display": figures.display,
            "denominator_minutes": minutes_text(
                Fraction(figures.denominator_seconds, 60), grouped=False
            ),
            "downtime_minutes": minutes_text(Fraction(figures.downtime_seconds, 60), grouped=False),
            "period_start": figures.period_start.isoformat(),
            "period_end": figures.period_end.isoformat(),
            "share_of_month": f"{figures.share_of_month.numerator}/"
            f"{figures.share_of_month.denominator}",
            "counted_outages": [v.outage_id for v in figures.verdicts if v.counted],
        },
        "policy": {"code": policy.code, "version": policy.version},
        "monthly_fee": str(row.monthly_fee),
    }


def _compute_one(
    row: ServiceMonth, month: date, terminated: bool, revision: int = 1, keep_zero: bool = False
) -> tuple[Credit, str] | None:
    contract, policy = row.contract, row.contract.policy
    zone = policy.measurement_calendar.time_zone
    terms = credit_terms(policy)
    figures = row.result
    case = CreditCase(
        availability=figures.availability,
        denominator_seconds=figures.denominator_seconds,
        downtime_seconds=figures.downtime_seconds,
        monthly_fee=row.monthly_fee,
        share_of_month=figures.share_of_month,
        currency=contract.currency,
        service=row.service.name,
        unpaid_invoices=tuple(_unpaid_before(contract, _first_downtime(policy, figures), zone)),
        terminated=terminated,
    )
    result = compute_credit(terms, case)
    if result.amount > 0:
        status = Credit.Status.PENDING
    elif not result.eligible:
        # Only worth recording when eligibility is what took the credit away.
        unconditional = compute_credit(terms, replace(case, unpaid_invoices=(), terminated=False))
        if unconditional.amount <= 0 and not keep_zero:
            return None
        # Where an earlier revision was granted, the manager confirms withdrawing it.
        status = Credit.Status.PENDING if keep_zero else Credit.Status.INELIGIBLE
    elif keep_zero:
        # A re-measured month now owes nothing where an earlier revision was granted: a
        # zero credit for the manager to confirm; approving it reverses the earlier grant.
        status = Credit.Status.PENDING
    else:
        return None
    credit = Credit(
        contract=contract,
        service=row.service,
        month=month,
        revision=revision,
        amount=result.amount,
        currency=contract.currency,
        availability_pct=percent_cut(figures.availability, 6),
        working=_working(row, policy, result.as_dict()),
        status=status,
        reason=result.reason,
    )
    return credit, result.reason


def credit_compute(
    *,
    contract: Contract,
    month: date,
    now: datetime | None = None,
    revision: int = 1,
    rows: list[ServiceMonth] | None = None,
    statement_number: str = "",
) -> list[Credit]:
    """The month's credits for each service line of the contract, from the availability
    engine. A row is written only when there is something to decide (an amount, or an
    amount that eligibility took away). Running it again returns what is already there.

    ``revision`` > 1 re-measures a month whose statement is re-issued: an earlier
    revision still pending is withdrawn (it can no longer be decided), and where an
    earlier revision was granted a credit is recorded even at zero, so that approving
    the new figure reverses the earlier grant (see ``credit_approve``). ``rows``: the
    contract's availability for the month when the caller has computed it already;
    ``statement_number``: the statement that reports these credits (named on the invoice
    line and the credit note when one is applied)."""
    now = now or timezone.now()
    month = month.replace(day=1)
    zone = contract.policy.measurement_calendar.time_zone
    local_today = local_date(now, zone)
    terminated = contract.terminated_by(local_today)  # the termination day is still in force
    if rows is None:
        rows = contract_availability(contract, month, now=now)
    credits: list[Credit] = []
    for row in rows:
        existing = Credit.objects.filter(
            contract=contract, service=row.service, month=month, revision=revision
        ).first()
        if existing is not None:
            credits.append(existing)
            continue
        granted_before = revision > 1 and _withdraw_earlier(row, month, revision)
        computed = _compute_one(row, month, terminated, revision, keep_zero=granted_before)
        if computed is None:
            continue
        credit, reason = computed
        credit.statement_number = statement_number
        try:
            with transaction.atomic():
                credit.save()
                CreditEvent.objects.create(credit=credit, action="computed", note=reason)
                emit_credit(credit, now=now)
        except IntegrityError:
            # Computed at the same moment by another worker: theirs stands.
            theirs = Credit.objects.filter(
                contract=contract, service=row.service, month=month, revision=revision
            ).first()
            if theirs is None:
                raise
            credit = theirs
        credits.append(credit)
    return credits


def _withdraw_earlier(row: ServiceMonth, month: date, revision: int) -> bool:
    """Withdraw the earlier revisions of this service-month still pending (a re-issued
    statement replaces them); True when an earlier revision was granted."""
    earlier = Credit.objects.select_for_update().filter(
        contract=row.contract, service=row.service, month=month, revision__lt=revision
    )
    granted = False
    for credit in earlier:
        if credit.status == Credit.Status.PENDING:
            credit.status = Credit.Status.INELIGIBLE
            credit.reason = f"Replaced by revision {revision} of this month's figures."
            credit.save(update_fields=["status", "reason"])
            CreditEvent.objects.create(credit=credit, action="withdrawn", note=credit.reason)
        granted = granted or credit.status == Credit.Status.APPROVED
    return granted


def _locked_pending(credit: Credit, actor: User | None) -> Credit:
    locked = (
        Credit.objects.select_for_update(of=("self",))
        .select_related("contract__customer", "service")
        .get(pk=credit.pk)
    )
    require_account_manager(actor, locked.contract.customer)
    if locked.status != Credit.Status.PENDING:
        raise ValidationError({"status": [ALREADY[locked.status]]}, code="already_decided")
    return locked


@transaction.atomic
def credit_approve(*, credit: Credit, actor: User, now: datetime | None = None) -> Credit:
    """Approve a pending credit: it is granted to the customer's balance (one ledger
    entry, ``credit.entries``). When two
    managers act at once, the row lock makes the second see the first's decision.

    A later revision (a re-issued statement) replaces the earlier ones: their grants are
    reversed in the same transaction, after the new amount is granted."""
    locked = _locked_pending(credit, actor)
    now = now or timezone.now()
    locked.status = Credit.Status.APPROVED
    locked.decided_by = actor
    locked.decided_at = now
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    CreditEvent.objects.create(credit=locked, action="approved", actor=actor)
    _audit_decision(locked, actor, "credit.approve")
    if locked.amount > 0:  # a zero revision only withdraws the earlier grant
        balance = locked_balance(locked.contract.customer, locked.currency)
        post(
            balance,
            kind=LedgerEntry.Kind.CREDIT_GRANTED,
            amount=locked.amount,
            description=f"Service credit: {locked.service} {locked.month:%Y-%m} "
            f"({locked.contract.reference})",
            actor=actor,
            contract=locked.contract,
            credit=locked,
        )
    if locked.revision > 1:
        _reverse_earlier_grants(locked, actor)
    emit_credit(locked, now=now)
    # At once, where an open invoice of the policy's kind exists; else when one is recorded.
    credits_apply(customer=locked.contract.customer, currency=locked.currency, now=now)
    _decided(locked)
    _refresh(credit, locked)
    return credit


def _audit_decision(credit: Credit, actor: User, action: str, reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=credit,
        changes={
            "status": {"before": Credit.Status.PENDING.value, "after": credit.status},
            "amount": {"before": credit.amount, "after": credit.amount},
        },
        reason=reason,
    )


def _reverse_earlier_grants(credit: Credit, actor: User) -> None:
    grants = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.CREDIT_GRANTED,
        credit__contract_id=credit.contract_id,
        credit__service_id=credit.service_id,
        credit__month=credit.month,
        credit__revision__lt=credit.revision,
        reversed_by__isnull=True,
    ).order_by("pk")
    for entry in grants:
        ledger_reverse(
            entry=entry,
            actor=actor,
            reason=f"replaced by revision {credit.revision} of the {credit.month:%Y-%m} credit",
        )


def _decided(credit: Credit) -> None:
    # A statement waits for its credits' decisions before it is rendered and e-mailed;
    # statements listens (credits never imports it: it is a layer above).
    credit_decided.send(sender=Credit, credit=credit)


@transaction.atomic
def credit_reject(
    *, credit: Credit, actor: User, reason: str, now: datetime | None = None
) -> Credit:
    """Reject a pending credit with the reason; nothing reaches the ledger."""
    locked = _locked_pending(credit, actor)
    text = require_reason(reason, what=" for rejecting the credit")
    locked.status = Credit.Status.REJECTED
    locked.reason = text
    locked.decided_by = actor
    locked.decided_at = now or timezone.now()
    locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    CreditEvent.objects.create(credit=locked, action="rejected", actor=actor, note=text)
    _audit_decision(locked, actor, "credit.reject", reason=text)
    emit_credit(locked, now=locked.decided_at)
    _decided(locked)
    _refresh(credit, locked)
    return credit


def _refresh(target: Credit, source: Credit) -> None:
    for name in ("status", "reason", "decided_by_id", "decided_at"):
        setattr(target, name, getattr(source, name))
