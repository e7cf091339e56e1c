"""Invoices come from the billing system: recorded once, by number, then frozen.

An invoice's content (``CONTENT``) never changes once recorded (the database refuses it,
migration 0006); what may happen later is its payment (``invoice_pay``) and credit lines
added by the credits app. Posting an invoice again is idempotent (``invoice_record``):
the same content is no change, the same content with a payment records the payment, and
different content is a conflict naming each differing field.

Who may record invoices and payments: an administrator, an account manager of the
invoice's customer (``slaportal.authority``), or the system (``actor=None``: the import
command, the demo).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from contracts.models import Contract, Invoice, InvoiceLine, User
from contracts.services._common import _decimal
from contracts.signals import invoice_recorded
from slaportal import authority

# What the billing system says about an invoice besides its number; frozen once recorded.
CONTENT = (
    "customer",
    "contract",
    "kind",
    "currency",
    "period_start",
    "period_end",
    "amount",
    "issued_on",
    "due_on",
)
CREATED, UNCHANGED, PAID = "created", "unchanged", "paid"


class InvoiceConflict(Exception):
    """An invoice posted again with content that differs from the recorded one."""

    def __init__(
        self, invoice: Invoice, fields: dict[str, dict[str, str]], message: str = ""
    ) -> None:
        self.invoice = invoice
        self.fields = fields
        super().__init__(
            message
            or f"Invoice {invoice.number} is issued and cannot change: {', '.join(fields)} "
            "differ from the recorded invoice. Issue a new invoice (or a credit) instead."
        )


@dataclass(frozen=True)
class Recorded:
    invoice: Invoice
    outcome: str  # CREATED, UNCHANGED or PAID

    @property
    def created(self) -> bool:
        return self.outcome == CREATED


def require_billing_staff(actor: User | None, contract: Contract) -> None:
    """An administrator, or an account manager of the contract's customer (or the
    system: the import command, the demo)."""
    authority.require_acts_for(actor, contract.customer_id, what="record its invoices")


def invoice_build(
    *,
    contract: Contract | None,
    number: str,
    period_start: date | None,
    period_end: date | None,
    amount: Any,
    issued_on: date | None,
    due_on: date | None,
    kind: str = Invoice.Kind.SUBSCRIPTION,
    currency: str | None = None,
    paid_at: datetime | None = None,
    looked_up: bool = False,
) -> Invoice:
    """A new invoice, validated and not saved: every problem at once, as field errors.

    ``looked_up``: the caller has already checked in bulk that the contract exists and
    whether the number is taken (the import), so those per-row queries are skipped; the
    rules themselves are the same.
    """
    errors: dict[str, list[str]] = {}
    if contract is None:
        errors["contract"] = ["Give the contract the invoice bills."]
    if currency is None and contract is not None:
        currency = contract.currency
    elif contract is not None and currency != contract.currency:
        errors["currency"] = [
            f"Contract {contract.reference} bills in {contract.currency}, not {currency}."
        ]
    try:
        value = _decimal(amount, "amount")
    except ValidationError as exc:
        errors.update(exc.message_dict)
        value = None
    invoice = Invoice(
        customer_id=contract.customer_id if contract else None,
        contract=contract,
        number=number,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        amount=value,
        total=value,
        currency=currency or "",
        issued_on=issued_on,
        due_on=due_on,
        paid_at=paid_at,
    )
    # Named-field checks first: a constraint's message would not say which field.
    if period_start and period_end and period_end < period_start:
        errors["period_end"] = ["The period cannot end before it starts."]
    if issued_on and due_on and due_on < issued_on:
        errors["due_on"] = ["An invoice cannot fall due before it is issued."]
    if value is not None and value.is_finite() and value < 0:
        errors["amount"] = ["An invoice amount cannot be negative."]
    if paid_at is not None and timezone.is_naive(paid_at):
        errors["paid_at"] = ["Give the payment time with its UTC offset."]
    exclude = [*errors, "total"]
    if looked_up:
        exclude += ["customer", "contract"]
    try:
        invoice.full_clean(
            exclude=exclude, validate_unique=not looked_up, validate_constraints=not looked_up
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault("non_field_errors" if name == "__all__" else name, messages)
    if errors:
        raise ValidationError(errors)
    return invoice


def _charge_line(invoice: Invoice) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice,
        kind=InvoiceLine.Kind.CHARGE,
        amount=invoice.amount,
        description=f"Services {invoice.period_start:%d %b %Y} – {invoice.period_end:%d %b %Y}",
    )


@transaction.atomic
def invoice_create(
    *,
    contract: Contract,
    number: str,
    period_start: date,
    period_end: date,
    amount: Any,
    issued_on: date,
    due_on: date,
    kind: str = Invoice.Kind.SUBSCRIPTION,
    currency: str | None = None,
    paid_at: datetime | None = None,
    actor: User | None = None,
) -> Invoice:
    """Record a new invoice with its charge line and tell the apps above
    (``invoice_recorded``). ``currency``: the contract's unless given (and then it must
    be the contract's)."""
    require_billing_staff(actor, contract)
    invoice = invoice_build(
        contract=contract,
        number=number,
        period_start=period_start,
        period_end=period_end,
        amount=amount,
        issued_on=issued_on,
        due_on=due_on,
        kind=kind,
        currency=currency,
        paid_at=paid_at,
    )
    invoice.save()
    _charge_line(invoice).save()
    invoice_recorded.send(sender=Invoice, invoice=invoice)
    return invoice


def _shown(invoice: Invoice, name: str) -> str:
    if name == "customer":
        return invoice.customer.name
    if name == "contract":
        return invoice.contract.reference
    value = getattr(invoice, name)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def invoice_differences(stored: Invoice, sent: Invoice) -> dict[str, dict[str, str]]:
    """The content fields in which ``sent`` differs from the recorded invoice, as
    ``{field: {"stored": …, "sent": …}}``."""
    differing = {}
    for name in CONTENT:
        attname = Invoice._meta.get_field(name).attname
        if getattr(stored, attname) != getattr(sent, attname):
            differing[name] = {"stored": _shown(stored, name), "sent": _shown(sent, name)}
    return differing


@transaction.atomic
def invoice_record(
    *,
    actor: User | None,
    contract: Contract,
    number: str,
    period_start: date,
    period_end: date,
    amount: Any,
    issued_on: date,
    due_on: date,
    kind: str = Invoice.Kind.SUBSCRIPTION,
    currency: str | None = None,
    paid_at: datetime | None = None,
) -> Recorded:
    """Record an invoice idempotently by number: a new number is created; the same
    content again changes nothing, or records the payment when ``paid_at`` is new;
    different content raises ``InvoiceConflict``. A ``paid_at`` of None never clears a
    recorded payment (it is a re-post of the invoice as first issued)."""
    require_billing_staff(actor, contract)
    content = {
        "contract": contract,
        "number": number,
        "period_start": period_start,
        "period_end": period_end,
        "amount": amount,
        "issued_on": issued_on,
        "due_on": due_on,
        "kind": kind,
        "currency": currency,
        "paid_at": paid_at,
    }
    stored = Invoice.objects.select_for_update().filter(number=number).first()
    if stored is None:
        try:
            with transaction.atomic():
                return Recorded(invoice_create(actor=actor, **content), CREATED)
        except (IntegrityError, ValidationError):
            # Recorded by another writer since the lookup: compare with theirs.
            stored = Invoice.objects.select_for_update().filter(number=number).first()
            if stored is None:
                raise
    if not (actor is None or authority.acts_for(actor, stored.customer_id)):
        # The number is another customer's: say so, but show nothing of that invoice.
        raise InvoiceConflict(
            stored,
            {},
            f"Invoice number {number} is recorded for another customer; numbers are unique.",
        )
    differing = invoice_differences(stored, invoice_build(looked_up=True, **content))
    if differing:
        raise InvoiceConflict(stored, differing)
    if paid_at is not None and paid_at != stored.paid_at:
        return Recorded(invoice_pay(invoice=stored, paid_at=paid_at, actor=actor), PAID)
    return Recorded(stored, UNCHANGED)


@transaction.atomic
def invoice_pay(
    *, invoice: Invoice, paid_at: datetime | None, actor: User | None, reason: str = ""
) -> Invoice:
    """Record (or correct, or with None withdraw) an invoice's payment; audit-logged.
    Payment decides credit eligibility under policies that require paid invoices."""
    require_billing_staff(actor, invoice.contract)
    if paid_at is not None and timezone.is_naive(paid_at):
        raise ValidationError({"paid_at": ["Give the payment time with its UTC offset."]})
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.paid_at == paid_at:
        return locked
    before = locked.paid_at
    locked.paid_at = paid_at
    locked.save(update_fields=["paid_at"])
    audit_record(
        actor=actor,
        action="invoice.pay",
        obj=locked,
        changes={"paid_at": {"before": before, "after": paid_at}},
        reason=reason,
        label=f"Invoice {locked.number}",
    )
    invoice.paid_at = paid_at
    return locked


@transaction.atomic
def invoices_import(
    *,
    new: list[Invoice],
    payments: list[tuple[Invoice, datetime]],
    reason: str,
) -> None:
    """Write what ``contracts.invoice_import`` validated, all or nothing: the new
    invoices (built by ``invoice_build``) with their charge lines, one
    ``invoice_recorded`` each, and the payments of invoices already recorded."""
    created = Invoice.objects.bulk_create(new, batch_size=500)
    InvoiceLine.objects.bulk_create([_charge_line(i) for i in created], batch_size=500)
    for invoice in created:
        invoice_recorded.send(sender=Invoice, invoice=invoice)
    for invoice, paid_at in payments:
        invoice_pay(invoice=invoice, paid_at=paid_at, actor=None, reason=reason)
