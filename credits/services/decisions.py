"""Compute a contract-month's credits, and the account manager's decision on each."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from contracts.models import Contract, SLAPolicy, User
from credits.models import Credit, CreditEvent, LedgerEntry
from credits.rules import CreditCase, compute_credit
from credits.selectors import credit_terms
from credits.services._common import locked_balance, post, require_account_manager, require_reason
from outages.availability import Availability
from outages.models import Outage
from outages.selectors import ServiceMonth, contract_availability

ALREADY = {
    Credit.Status.APPROVED: "This credit is already approved.",
    Credit.Status.REJECTED: "This credit is already rejected.",
    Credit.Status.INELIGIBLE: "This credit is not eligible; there is nothing to decide.",
}


def _percent_cut(availability: Fraction) -> Decimal:
    """Exact availability × 100, cut (not rounded) to 6 places: a shortfall never shows as met."""
    scaled = availability * 100 * 10**6
    return Decimal(scaled.numerator // scaled.denominator).scaleb(-6)


def _first_downtime(policy: SLAPolicy, result: Availability) -> datetime | None:
    """When the first counted downtime began (from confirmation where the policy says so),
    clipped to the measured period."""
    counted = [v.outage_id for v in result.verdicts if v.counted]
    starts = []
    from_confirmation = policy.downtime_starts_at == SLAPolicy.DowntimeStart.CONFIRMATION
    for outage in Outage.objects.filter(pk__in=counted):
        start = outage.started_at
        if from_confirmation and outage.confirmed_at and outage.confirmed_at > start:
            start = outage.confirmed_at
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
            "denominator_minutes": str(Decimal(figures.denominator_seconds) / 60),
            "downtime_minutes": str(Decimal(figures.downtime_seconds) / 60),
            "period_start": figures.period_start.isoformat(),
            "period_end": figures.period_end.isoformat(),
            "share_of_month": f"{figures.share_of_month.numerator}/"
            f"{figures.share_of_month.denominator}",
            "counted_outages": [v.outage_id for v in figures.verdicts if v.counted],
        },
        "policy": {"code": policy.code, "version": policy.version},
        "monthly_fee": str(row.monthly_fee),
    }


def _compute_one(row: ServiceMonth, month: date, terminated: bool) -> tuple[Credit, str] | None:
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
        if unconditional.amount <= 0:
            return None
        status = Credit.Status.INELIGIBLE
    else:
        return None
    credit = Credit(
        contract=contract,
        service=row.service,
        month=month,
        revision=1,
        amount=result.amount,
        currency=contract.currency,
        availability_pct=_percent_cut(figures.availability),
        working=_working(row, policy, result.as_dict()),
        status=status,
        reason=result.reason,
    )
    return credit, result.reason


def credit_compute(*, contract: Contract, month: date, now: datetime | None = None) -> list[Credit]:
    """The month's credits for each service line of the contract, from the availability
    engine. A row is written only when there is something to decide (an amount, or an
    amount that eligibility took away). Running it again returns what is already there."""
    now = now or timezone.now()
    month = month.replace(day=1)
    zone = contract.policy.measurement_calendar.time_zone
    local_today = now.astimezone(ZoneInfo(zone)).date()
    terminated = contract.terminated_on is not None and contract.terminated_on <= local_today
    credits: list[Credit] = []
    for row in contract_availability(contract, month, now=now):
        existing = Credit.objects.filter(
            contract=contract, service=row.service, month=month, revision=1
        ).first()
        if existing is not None:
            credits.append(existing)
            continue
        computed = _compute_one(row, month, terminated)
        if computed is None:
            continue
        credit, reason = computed
        try:
            with transaction.atomic():
                credit.save()
                CreditEvent.objects.create(credit=credit, action="computed", note=reason)
        except IntegrityError:
            # Computed at the same moment by another worker: theirs stands.
            theirs = Credit.objects.filter(
                contract=contract, service=row.service, month=month, revision=1
            ).first()
            if theirs is None:
                raise
            credit = theirs
        credits.append(credit)
    return credits


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
    managers act at once, the row lock makes the second see the first's decision."""
    locked = _locked_pending(credit, actor)
    now = now or timezone.now()
    locked.status = Credit.Status.APPROVED
    locked.decided_by = actor
    locked.decided_at = now
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    CreditEvent.objects.create(credit=locked, action="approved", actor=actor)
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
    _refresh(credit, locked)
    return credit


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
    _refresh(credit, locked)
    return credit


def _refresh(target: Credit, source: Credit) -> None:
    for name in ("status", "reason", "decided_by_id", "decided_at"):
        setattr(target, name, getattr(source, name))
