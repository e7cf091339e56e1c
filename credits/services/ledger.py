"""Ledger movements: expiry on termination, reversals, and manual adjustments under the
four-eyes rule. (Applying credits to invoices: ``credits.services.application``.)"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from audit.services import audit_record
from contracts.models import Contract, Customer, User
from credits.models import Balance, Credit, CreditEvent, CreditNote, LedgerEntry, ManualAdjustment
from credits.selectors import chain_of
from credits.services._common import (
    locked_balance,
    post,
    require_reason,
    require_staff_for,
)
from credits.services.application import credit_note_reverse, make_room
from slaportal.money import round_money
from slaportal.months import local_date

Kind = LedgerEntry.Kind


def credits_expire_on_termination(*, now: datetime) -> int:
    """Expire the balance of every customer whose contracts (in that currency) have all
    terminated under a policy whose credits expire on termination, each termination day
    over in its policy's zone at ``now`` (the termination day is the last day in force).
    Each credit's remainder is written off by its own ``credit_expired`` entry (so its
    page says so), anything else on the balance by one more. Returns how many balances
    expired; running it again finds nothing to do."""
    # A cheap first cut in the database: no zone's date is later than UTC+14's, and a
    # contract in the balance's currency still running (or ending later) keeps it.
    latest_day = now.astimezone(ZoneInfo("Etc/GMT-14")).date()
    running = Contract.objects.filter(
        customer_id=OuterRef("customer_id"), currency=OuterRef("currency")
    ).filter(Q(terminated_on__isnull=True) | Q(terminated_on__gte=latest_day))
    candidates = Balance.objects.filter(amount__gt=0).exclude(Exists(running))
    expired = 0
    for pk in list(candidates.order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            balance = Balance.objects.select_for_update().get(pk=pk)
            if balance.amount <= 0:
                continue
            contracts = list(
                Contract.objects.filter(
                    customer_id=balance.customer_id, currency=balance.currency
                ).select_related("policy__measurement_calendar")
            )
            if not contracts or any(
                not c.terminated_by(_local_day(c, now))
                or not c.policy.credits_expire_on_termination
                for c in contracts
            ):
                continue
            last = max(contracts, key=lambda c: (c.terminated_on, c.pk))
            why = f"contract {last.reference} terminated on {last.terminated_on:%Y-%m-%d}"
            for credit, remaining in _held_by_credits(balance):
                amount = min(remaining, balance.amount)
                post(
                    balance,
                    kind=Kind.CREDIT_EXPIRED,
                    amount=-amount,
                    description=f"Credit expired ({credit.service} {credit.month:%Y-%m}): {why}",
                    actor=None,
                    contract=credit.contract,
                    credit=credit,
                )
                CreditEvent.objects.create(credit=credit, action="expired", note=why)
            if balance.amount > 0:
                post(
                    balance,
                    kind=Kind.CREDIT_EXPIRED,
                    amount=-balance.amount,
                    description=f"Credits expired: {why}",
                    actor=None,
                    contract=last,
                )
            expired += 1
    return expired


def _held_by_credits(balance: Balance) -> list[tuple[Credit, Decimal]]:
    """Per chain (a service-month's revisions) what its credits still hold, attributed to
    the chain's latest approved revision."""
    held = []
    sums = (
        LedgerEntry.objects.filter(
            customer_id=balance.customer_id, currency=balance.currency, credit__isnull=False
        )
        .values("credit__contract_id", "credit__service_id", "credit__month")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in sums:
        if row["total"] <= 0:
            continue
        credit = (
            Credit.objects.filter(
                contract_id=row["credit__contract_id"],
                service_id=row["credit__service_id"],
                month=row["credit__month"],
                status=Credit.Status.APPROVED,
            )
            .select_related("contract", "service")
            .order_by("-revision")
            .first()
        )
        if credit is not None:
            held.append((credit, row["total"]))
    return sorted(held, key=lambda pair: (pair[0].month, pair[0].pk))


def _local_day(contract: Contract, now: datetime) -> date:
    return local_date(now, contract.policy.measurement_calendar.time_zone)


def _already_reversed(entry: LedgerEntry) -> ValidationError:
    return ValidationError({"entry": [f"Ledger entry #{entry.pk} is already reversed."]})


@transaction.atomic
def ledger_reverse(*, entry: LedgerEntry, actor: User, reason: str) -> LedgerEntry:
    """Correct an entry with its mirror image; an entry is reversed at most once."""
    require_staff_for(actor, entry.customer)
    text = require_reason(reason, what=" for the reversal")
    if entry.kind == Kind.REVERSAL:
        raise ValidationError(
            {"entry": ["A reversal cannot itself be reversed; post a new adjustment instead."]}
        )
    balance = locked_balance(entry.customer, entry.currency)
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise _already_reversed(entry)
    if entry.kind == Kind.CREDIT_APPLIED:
        # Taken back from the invoice by a reversing credit note (unpaid invoices only).
        note = CreditNote.objects.select_related("customer", "credit__contract").get(entry=entry)
        return credit_note_reverse(note=note, actor=actor, reason=text).entry
    if entry.kind == Kind.CREDIT_GRANTED and entry.credit_id:
        # What the credit already put on invoices comes back first, by reversing notes.
        make_room(chain_of(entry.credit), entry.amount, reason=text, actor=actor)
        balance = locked_balance(entry.customer, entry.currency)
    try:
        # ``reverses`` is unique: a reversal racing this one makes the insert fail.
        with transaction.atomic():
            reversal = post(
                balance,
                kind=Kind.REVERSAL,
                amount=-entry.amount,
                description=f"Reversal of entry #{entry.pk}: {text}",
                actor=actor,
                contract=entry.contract,
                reverses=entry,
                credit=entry.credit,
            )
    except IntegrityError:
        raise _already_reversed(entry) from None
    if entry.credit_id:
        CreditEvent.objects.create(
            credit_id=entry.credit_id, action="reversed", actor=actor, note=text
        )
    audit_record(
        actor=actor,
        action="ledger.reverse",
        obj=entry,
        changes={"reversed_by": {"before": None, "after": f"entry #{reversal.pk}"}},
        reason=text,
        label=f"Entry #{entry.pk}: {entry} ({entry.customer})",
    )
    return reversal


def _money(amount, currency: str) -> Decimal:
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValidationError({"amount": ["Give an amount, e.g. 125.00."]}) from None
    if not value.is_finite() or value == 0:
        raise ValidationError(
            {"amount": ["An adjustment moves some money; give a non-zero amount."]}
        )
    if round_money(value, currency) != value:
        raise ValidationError({"amount": [f"{value} has more decimals than {currency} allows."]})
    return round_money(value, currency)


@transaction.atomic
def adjustment_request(
    *,
    customer: Customer,
    amount: Decimal,
    currency: str,
    reason: str,
    actor: User,
    contract: Contract | None = None,
) -> ManualAdjustment:
    """Ask for a manual adjustment; it reaches the ledger only once a second person approves."""
    require_staff_for(actor, customer)
    errors: dict[str, list[str]] = {}
    billed = sorted(set(customer.contracts.values_list("currency", flat=True)))
    if contract is not None and contract.customer_id != customer.pk:
        errors["contract"] = ["No such contract for this customer."]
    if not billed:
        errors["currency"] = [f"{customer} has no contract, so no currency to adjust in."]
    elif currency not in billed:
        errors["currency"] = [
            f"{customer} bills in {', '.join(billed)}; an adjustment in {currency} cannot be posted."
        ]
    elif contract is not None and contract.currency != currency:
        errors["currency"] = [f"Contract {contract.reference} bills in {contract.currency}."]
    if not (reason or "").strip():
        errors["reason"] = ["Give the reason for the adjustment."]
    try:
        value = _money(amount, currency)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    adjustment = ManualAdjustment.objects.create(
        customer=customer,
        contract=contract,
        amount=value,
        currency=currency,
        reason=reason.strip(),
        requested_by=actor,
    )
    audit_record(
        actor=actor,
        action="adjustment.request",
        obj=adjustment,
        changes={"amount": {"before": None, "after": f"{value} {currency}"}},
        reason=adjustment.reason,
    )
    return adjustment


@transaction.atomic
def adjustment_decide(
    *,
    adjustment: ManualAdjustment,
    actor: User,
    approve: bool,
    note: str = "",
    now: datetime | None = None,
) -> ManualAdjustment:
    """The second person's decision; approval posts the entry and moves the balance."""
    locked = (
        ManualAdjustment.objects.select_for_update(of=("self",))
        .select_related("customer", "contract")
        .get(pk=adjustment.pk)
    )
    require_staff_for(actor, locked.customer)
    if locked.status != ManualAdjustment.Status.PENDING:
        raise ValidationError(
            {"status": [f"This adjustment is already {locked.get_status_display().lower()}."]}
        )
    if locked.requested_by_id == actor.pk:
        raise ValidationError(
            {"decided_by": ["A second person must approve: you requested this adjustment."]}
        )
    if approve:
        balance = locked_balance(locked.customer, locked.currency)
        text = f"Manual adjustment: {locked.reason}"
        if note.strip():
            text += f" ({note.strip()})"
        locked.entry = post(
            balance,
            kind=Kind.MANUAL_ADJUSTMENT,
            amount=locked.amount,
            description=text,
            actor=actor,
            contract=locked.contract,
        )
    locked.status = (
        ManualAdjustment.Status.APPROVED if approve else ManualAdjustment.Status.REJECTED
    )
    locked.decided_by = actor
    locked.decided_at = now or timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at", "entry"])
    audit_record(
        actor=actor,
        action="adjustment.approve" if approve else "adjustment.reject",
        obj=locked,
        changes={
            "status": {"before": ManualAdjustment.Status.PENDING.value, "after": locked.status}
        },
        reason=note.strip(),
    )
    return locked
