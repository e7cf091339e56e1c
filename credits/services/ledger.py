"""Ledger movements: applying the balance to invoices, expiry on termination,
reversals, and manual adjustments under the four-eyes rule."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from contracts.models import Contract, Customer, Invoice, InvoiceLine, User
from credits.models import Balance, CreditEvent, LedgerEntry, ManualAdjustment
from credits.services._common import (
    locked_balance,
    post,
    require_reason,
    require_staff_for,
)
from slaportal.money import round_money
from slaportal.months import local_date

Kind = LedgerEntry.Kind


def _open_invoice(invoice: Invoice) -> None:
    if invoice.paid_at is not None:
        raise ValidationError({"invoice": [f"Invoice {invoice.number} is already paid."]})
    if invoice.total <= 0:
        raise ValidationError(
            {"invoice": [f"Invoice {invoice.number} has nothing left to credit."]}
        )


def _apply(balance: Balance, invoice: Invoice, actor: User | None) -> LedgerEntry:
    # Never more than the invoice's amount: the rest stays on the balance.
    amount = min(balance.amount, invoice.total)
    line = InvoiceLine.objects.create(
        invoice=invoice, kind=InvoiceLine.Kind.CREDIT, description="Service credit", amount=-amount
    )
    invoice.total -= amount
    invoice.save(update_fields=["total"])
    return post(
        balance,
        kind=Kind.CREDIT_APPLIED,
        amount=-amount,
        description=f"Applied to invoice {invoice.number}",
        actor=actor,
        contract=invoice.contract,
        invoice_line=line,
    )


@transaction.atomic
def credit_apply_to_invoice(
    *, customer: Customer, actor: User | None, invoice: Invoice | None = None
) -> LedgerEntry | None:
    """Apply the customer's balance to ``invoice`` (or to the next open invoice) as a
    negative line. Returns the ledger entry, or None when there is nothing to apply.

    ``actor`` None is the system (the statements job); a person must be the customer's
    account manager or an administrator.
    """
    if actor is not None:
        require_staff_for(actor, customer)
    if invoice is not None:
        if invoice.customer_id != customer.pk:
            # Say nothing about the other customer's invoice.
            raise ValidationError({"invoice": ["No such invoice for this customer."]})
        # Lock order, everywhere: the balance first, then the invoice.
        balance = locked_balance(customer, invoice.currency)
        target = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _open_invoice(target)
        if balance.amount <= 0:
            other = (
                Balance.objects.filter(customer=customer, amount__gt=0)
                .exclude(currency=target.currency)
                .values_list("currency", flat=True)
                .first()
            )
            if other:
                raise ValidationError(
                    {
                        "invoice": [
                            f"Invoice {target.number} bills in {target.currency}; "
                            f"the credit balance is in {other}."
                        ]
                    }
                )
            return None
        entry = _apply(balance, target, actor)
        invoice.total = target.total
        return entry
    currencies = (
        Balance.objects.filter(customer=customer, amount__gt=0)
        .order_by("currency")
        .values_list("currency", flat=True)
    )
    for currency in list(currencies):
        balance = locked_balance(customer, currency)
        if balance.amount <= 0:
            continue  # used up by another writer meanwhile
        target = (
            Invoice.objects.select_for_update()
            .filter(customer=customer, currency=currency, paid_at__isnull=True, total__gt=0)
            .order_by("due_on", "pk")
            .first()
        )
        if target is not None:
            return _apply(balance, target, actor)
    return None


def credits_expire_on_termination(*, now: datetime) -> int:
    """Expire the balance of every customer whose contracts (in that currency) have all
    terminated under a policy whose credits expire on termination, each termination day
    over in its policy's zone at ``now`` (the termination day is the last day in force).
    Returns how many balances expired; running it again finds nothing to do."""
    # A cheap first cut in the database: no zone's date is later than UTC+14's.
    latest_day = now.astimezone(ZoneInfo("Etc/GMT-14")).date()
    candidates = (
        Balance.objects.filter(amount__gt=0)
        .exclude(customer__contracts__terminated_on__isnull=True)
        .exclude(customer__contracts__terminated_on__gte=latest_day)
        .values_list("pk", flat=True)
        .distinct()
    )
    expired = 0
    for pk in list(candidates):
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
            post(
                balance,
                kind=Kind.CREDIT_EXPIRED,
                amount=-balance.amount,
                description=f"Credits expired: contract {last.reference} terminated "
                f"on {last.terminated_on:%Y-%m-%d}",
                actor=None,
                contract=last,
            )
            expired += 1
    return expired


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
    if entry.kind == Kind.CREDIT_APPLIED:
        raise ValidationError(
            {
                "entry": [
                    "A credit applied to an invoice stays on the invoice; "
                    "it cannot be reversed in the ledger."
                ]
            }
        )
    balance = locked_balance(entry.customer, entry.currency)
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise _already_reversed(entry)
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
