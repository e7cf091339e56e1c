"""Compute a contract-month's credits from the availability engine's figures.

``credit_compute`` reads what it needs for one contract (its existing credits, its
policy's credit terms, its invoices where the policy asks for paid ones, the webhook
endpoints) as ``CreditInputs``; a statement run reads those for a batch of contracts at
once (``credit_inputs``) and passes each contract's, so a statement costs its own writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from contracts.models import Contract, Invoice, SLAPolicy
from credits.models import Credit, CreditEvent
from credits.rules import CreditCase, CreditTerms, compute_credit
from credits.selectors import credit_terms
from credits.webhooks import emit_credit
from outages.models import Outage
from outages.screening import downtime_start
from outages.selectors import ServiceMonth, contract_availability
from outbox.models import WebhookEndpoint
from outbox.services import active_endpoints
from slaportal.formatting import minutes_text, percent_cut
from slaportal.months import local_date, next_month


def _first_downtime(policy: SLAPolicy, row: ServiceMonth) -> datetime | None:
    """When the first counted downtime began (from confirmation where the policy says so),
    clipped to the measured period: from the outages the figures were computed from, or
    read again when the row does not carry them."""
    result = row.result
    counted = [v.outage_id for v in result.verdicts if v.counted]
    if all(pk in row.outages for pk in counted):
        times = [(row.outages[pk].started_at, row.outages[pk].confirmed_at) for pk in counted]
    else:
        times = list(
            Outage.objects.filter(pk__in=counted).values_list("started_at", "confirmed_at")
        )
    starts = []
    from_confirmation = policy.downtime_starts_at == SLAPolicy.DowntimeStart.CONFIRMATION
    for started_at, confirmed_at in times:
        start = downtime_start(started_at, confirmed_at, from_confirmation=from_confirmation)
        if start is not None:  # None: no longer confirmed since it was measured
            starts.append(max(start, result.period_start))
    return min(starts, default=None)


Invoices = list[tuple[str, date, datetime | None]]  # number, due on, paid at; by due date


@dataclass(frozen=True, slots=True)
class CreditInputs:
    """What ``credit_compute`` reads for one contract-month, besides its figures."""

    existing: dict[int, Credit]  # this revision's credits already computed, by service id
    terms: CreditTerms
    invoices: Invoices | None  # those due before the month ended; None: the policy needs none
    endpoints: list[WebhookEndpoint]


def credit_inputs(
    contracts: list[Contract],
    month: date,
    *,
    revision: int = 1,
    endpoints: list[WebhookEndpoint] | None = None,
) -> dict[int, CreditInputs]:
    """Each contract's ``CreditInputs`` for ``month`` (contracts with their policies
    loaded; their credit bands are prefetched onto them), by contract id, in a fixed
    number of queries however many contracts there are."""
    month = month.replace(day=1)
    ids = [c.pk for c in contracts]
    existing: dict[int, dict[int, Credit]] = defaultdict(dict)
    rows = Credit.objects.filter(contract__in=ids, month=month, revision=revision)
    for credit in rows.order_by():
        existing[credit.contract_id][credit.service_id] = credit
    policies = {c.policy_id: c.policy for c in contracts}
    prefetch_related_objects(list(policies.values()), "bands")
    terms = {pk: credit_terms(policy) for pk, policy in policies.items()}
    # Only the multiplier SLA's "paid any outstanding invoices" reads them.
    paying = [c.pk for c in contracts if terms[c.policy_id].requires_paid_invoices]
    invoices: dict[int, Invoices] = defaultdict(list)
    if paying:
        due = Invoice.objects.filter(contract__in=paying, due_on__lt=next_month(month))
        for contract_id, *row in due.order_by("due_on", "number").values_list(
            "contract_id", "number", "due_on", "paid_at"
        ):
            invoices[contract_id].append(tuple(row))
    endpoints = active_endpoints() if endpoints is None else endpoints
    return {
        c.pk: CreditInputs(
            existing=existing[c.pk],
            terms=terms[c.policy_id],
            invoices=invoices[c.pk] if c.pk in paying else None,
            endpoints=endpoints,
        )
        for c in contracts
    }


def _unpaid_before(
    invoices: Invoices | None, downtime_start: datetime | None, zone: str
) -> list[str]:
    """Numbers of the invoices that fell due before the downtime and were not paid by
    then (the multiplier SLA's "paid any outstanding invoices")."""
    if downtime_start is None or not invoices:
        return []
    day = downtime_start.astimezone(ZoneInfo(zone)).date()
    return [
        number
        for number, due_on, paid_at in invoices
        if due_on < day and (paid_at is None or paid_at > downtime_start)
    ]


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
    row: ServiceMonth,
    month: date,
    terminated: bool,
    inputs: CreditInputs,
    revision: int = 1,
    keep_zero: bool = False,
) -> tuple[Credit, str] | None:
    contract, policy = row.contract, row.contract.policy
    figures = row.result
    terms = inputs.terms
    unpaid: tuple[str, ...] = ()
    if terms.requires_paid_invoices:  # nothing else reads them
        zone = policy.measurement_calendar.time_zone
        unpaid = tuple(_unpaid_before(inputs.invoices, _first_downtime(policy, row), zone))
    case = CreditCase(
        availability=figures.availability,
        denominator_seconds=figures.denominator_seconds,
        downtime_seconds=figures.downtime_seconds,
        monthly_fee=row.monthly_fee,
        share_of_month=figures.share_of_month,
        currency=contract.currency,
        service=row.service.name,
        unpaid_invoices=unpaid,
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
    inputs: CreditInputs | None = None,
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
    line and the credit note when one is applied); ``inputs``: what ``credit_inputs``
    read for it (a batch of statements)."""
    now = now or timezone.now()
    month = month.replace(day=1)
    zone = contract.policy.measurement_calendar.time_zone
    local_today = local_date(now, zone)
    terminated = contract.terminated_by(local_today)  # the termination day is still in force
    if rows is None:
        rows = contract_availability(contract, month, now=now)
    if inputs is None:
        inputs = credit_inputs([contract], month, revision=revision)[contract.pk]
    existing = inputs.existing
    credits: list[Credit | None] = []
    fresh: list[tuple[int, Credit, str]] = []
    for row in rows:
        if row.service.pk in existing:
            credits.append(existing[row.service.pk])
            continue
        granted_before = revision > 1 and _withdraw_earlier(row, month, revision)
        computed = _compute_one(row, month, terminated, inputs, revision, keep_zero=granted_before)
        if computed is None:
            continue
        credit, reason = computed
        credit.statement_number = statement_number
        fresh.append((len(credits), credit, reason))
        credits.append(None)
    if fresh:
        _store(fresh, credits, now=now, endpoints=inputs.endpoints)
    return [credit for credit in credits if credit is not None]


def _store(
    fresh: list[tuple[int, Credit, str]],
    credits: list[Credit | None],
    *,
    now: datetime,
    endpoints: list[WebhookEndpoint],
) -> None:
    """Write the computed credits (at their places in ``credits``), each with its event
    and webhook: all in one go, or one at a time when another worker computed the same
    month at the same moment."""
    try:
        with transaction.atomic():
            # One INSERT each: several JSON rows at once go through PostgreSQL's UNNEST,
            # whose array literal escapes each document in Python, at twice the cost.
            for _, credit, _ in fresh:
                credit.save(force_insert=True)
            CreditEvent.objects.bulk_create(
                CreditEvent(credit=credit, action="computed", note=reason)
                for _, credit, reason in fresh
            )
            for place, credit, _ in fresh:
                emit_credit(credit, now=now, endpoints=endpoints)
                credits[place] = credit
        return
    except IntegrityError:
        pass
    for place, credit, reason in fresh:
        credit.pk = None  # the batch was rolled back
        try:
            with transaction.atomic():
                credit.save(force_insert=True)
                CreditEvent.objects.create(credit=credit, action="computed", note=reason)
                emit_credit(credit, now=now, endpoints=endpoints)
        except IntegrityError:
            # Computed at the same moment by another worker: theirs stands.
            theirs = Credit.objects.filter(
                contract=credit.contract,
                service=credit.service,
                month=credit.month,
                revision=credit.revision,
            ).first()
            if theirs is None:
                raise
            credit = theirs
        credits[place] = credit


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
