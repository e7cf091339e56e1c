"""Credits reach the bill: an approved credit is applied to the customer's next open
invoice in its currency as a negative line, by a numbered credit note; reversing an
application is a new note that names the first (nothing is edited).

Lock order, everywhere: the customer's balance (``locked_balance``), then the invoice,
then the year's credit note sequence. Every application is computed under the balance
lock from the ledger itself, so a retry or a second worker applies nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q, Sum
from django.utils import timezone

from audit.services import audit_record
from contracts.models import Customer, Invoice, InvoiceLine, User
from credits.models import Balance, Credit, CreditEvent, CreditNote, CreditNoteSequence, LedgerEntry
from credits.selectors import Chain, chain_of
from credits.services._common import (
    locked_balance,
    post,
    require_account_manager,
    require_reason,
    require_staff_for,
)
from credits.services.documents import dispatch_deliver
from credits.webhooks import emit_applied, emit_note_issued
from slaportal.transactions import after_commit

Kind = LedgerEntry.Kind
ZERO = Decimal("0")


def _chain_q(chain: Chain, prefix: str = "") -> Q:
    contract, service, month = chain
    return Q(
        **{
            f"{prefix}contract_id": contract,
            f"{prefix}service_id": service,
            f"{prefix}month": month,
        }
    )


def chain_remaining(chain: Chain) -> Decimal:
    """What the chain's credits still hold on the account (granted less applied,
    expired and reversed), from the ledger."""
    total = LedgerEntry.objects.filter(_chain_q(chain, "credit__")).aggregate(s=Sum("amount"))
    return total["s"] or ZERO


def invoice_kinds(credit: Credit) -> list[str]:
    """The invoice kinds this credit may go to under its policy (the first is the default)."""
    kinds = list(credit.contract.policy.credit_invoice_kinds or [Invoice.Kind.SUBSCRIPTION])
    return kinds


def target_kind(credit: Credit) -> str:
    return credit.invoice_kind or invoice_kinds(credit)[0]


def _live_chains(customer: Customer, currency: str) -> list[tuple[Credit, Decimal]]:
    """The customer's approved credits in ``currency`` with something left to apply:
    per chain its latest approved revision, oldest decision first."""
    latest = (
        Credit.objects.filter(
            contract__customer=customer, currency=currency, status=Credit.Status.APPROVED
        )
        .values("contract_id", "service_id", "month")
        .annotate(revision=Max("revision"))
        .order_by()
    )
    if not latest:
        return []
    sums = {
        (row["credit__contract_id"], row["credit__service_id"], row["credit__month"]): row["s"]
        for row in LedgerEntry.objects.filter(
            customer=customer, currency=currency, credit__isnull=False
        )
        .values("credit__contract_id", "credit__service_id", "credit__month")
        .annotate(s=Sum("amount"))
        .order_by()
    }
    wanted = Q()
    for row in latest:
        chain = (row["contract_id"], row["service_id"], row["month"])
        if sums.get(chain, ZERO) > 0:
            wanted |= _chain_q(chain) & Q(revision=row["revision"])
    if not wanted:
        return []
    credits = (
        Credit.objects.filter(wanted, status=Credit.Status.APPROVED)
        .select_related("contract__policy", "contract__customer", "service")
        .order_by("decided_at", "pk")
    )
    return [(credit, sums[chain_of(credit)]) for credit in credits]


def _next_invoice(customer: Customer, currency: str, kind: str) -> Invoice | None:
    return (
        Invoice.objects.select_for_update()
        .filter(customer=customer, currency=currency, kind=kind, paid_at__isnull=True, total__gt=0)
        .order_by("due_on", "issued_on", "pk")
        .first()
    )


def _number(now: datetime) -> tuple[int, int, str]:
    """The next number of the year, without gaps: the sequence row is locked until the
    caller's transaction ends (a rollback gives the number back)."""
    year = now.year
    try:
        with transaction.atomic():
            CreditNoteSequence.objects.get_or_create(year=year)
    except IntegrityError:  # created by another writer at the same moment
        pass
    sequence = CreditNoteSequence.objects.select_for_update().get(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return year, sequence.last, f"CN-{year}-{sequence.last:06d}"


def _details(credit: Credit, invoice: Invoice, total_before: Decimal) -> dict:
    customer = credit.contract.customer
    policy = credit.contract.policy
    working = credit.working or {}
    clause = [
        {"label": step.get("label", ""), "value": step.get("value", ""), "clause": step["clause"]}
        for step in working.get("working", [])
        if step.get("clause")
    ]
    availability = working.get("availability", {})
    return {
        "seller": {
            "name": settings.PROVIDER_NAME,
            "address": list(settings.PROVIDER_ADDRESS),
            "email": settings.PROVIDER_EMAIL,
        },
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "billing_email": list(customer.billing_email_list),
        },
        "invoice": {
            "id": invoice.pk,
            "number": invoice.number,
            "kind": invoice.kind,
            "issued_on": invoice.issued_on.isoformat(),
            "period_start": invoice.period_start.isoformat(),
            "period_end": invoice.period_end.isoformat(),
            "total_before": str(total_before),
            "total_after": str(invoice.total),
        },
        "contract": {"id": credit.contract_id, "reference": credit.contract.reference},
        "statement": credit.statement_number,
        "month": f"{credit.month:%Y-%m}",
        "service": credit.service.name,
        "credit": {
            "id": credit.pk,
            "revision": credit.revision,
            "amount": str(credit.amount),
            "availability_pct": str(credit.availability_pct),
            "availability": availability.get("display", ""),
            "band": working.get("band"),
            "policy": {
                **working.get("policy", {}),
                "name": policy.name,
                # The multiplier SLA: credits "cannot be exchanged into a cash amount";
                # the note says so.
                "cash_refundable": policy.credits_cash_refundable,
                "credit_applies_to": policy.credit_applies_to,
            },
        },
        "clauses": clause,
    }


def _issue(
    *,
    kind: str,
    credit: Credit,
    invoice: Invoice,
    line: InvoiceLine,
    entry: LedgerEntry,
    amount: Decimal,
    number: tuple[int, int, str],
    details: dict,
    now: datetime,
    reverses: CreditNote | None = None,
) -> CreditNote:
    year, sequence, text = number
    note = CreditNote.objects.create(
        number=text,
        year=year,
        sequence=sequence,
        kind=kind,
        customer_id=invoice.customer_id,
        invoice=invoice,
        invoice_line=line,
        credit=credit,
        entry=entry,
        reverses=reverses,
        amount=amount,
        currency=invoice.currency,
        issued_at=now,
        details=details,
    )
    after_commit(dispatch_deliver, note.pk)
    return note


def _apply_one(
    balance: Balance,
    credit: Credit,
    invoice: Invoice,
    amount: Decimal,
    actor: User | None,
    now: datetime,
) -> CreditNote:
    number = _number(now)
    statement = f"statement {credit.statement_number}, " if credit.statement_number else ""
    line = InvoiceLine.objects.create(
        invoice=invoice,
        kind=InvoiceLine.Kind.CREDIT,
        description=f"Service credit {credit.service} {credit.month:%Y-%m} "
        f"({statement}credit #{credit.pk}, credit note {number[2]})",
        amount=-amount,
    )
    total_before = invoice.total
    invoice.total = total_before - amount
    invoice.save(update_fields=["total"])
    entry = post(
        balance,
        kind=Kind.CREDIT_APPLIED,
        amount=-amount,
        description=f"Applied to invoice {invoice.number} by credit note {number[2]}",
        actor=actor,
        contract=credit.contract,
        credit=credit,
        invoice_line=line,
    )
    note = _issue(
        kind=CreditNote.Kind.CREDIT,
        credit=credit,
        invoice=invoice,
        line=line,
        entry=entry,
        amount=amount,
        number=number,
        details=_details(credit, invoice, total_before),
        now=now,
    )
    CreditEvent.objects.create(
        credit=credit,
        action="applied",
        actor=actor,
        note=f"{amount} {invoice.currency} applied to invoice {invoice.number} "
        f"by credit note {note.number}",
    )
    audit_record(
        actor=actor,
        action="credit.apply",
        obj=note,
        changes={"total": {"before": total_before, "after": invoice.total}},
        label=f"{note.number}: invoice {invoice.number} ({invoice.customer})",
        at=now,
    )
    emit_applied(note, line, now=now)
    return note


@transaction.atomic
def credits_apply(
    *,
    customer: Customer,
    currency: str | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> list[CreditNote]:
    """Apply the customer's approved credits to their next open invoices, each to the kind
    of invoice its policy (or its account manager) names; what exceeds an invoice's total
    waits for the next one. Returns the credit notes issued (none: nothing to do).

    Called at approval, when an invoice is recorded, and by the hourly sweep; ``actor``
    None is the system."""
    now = now or timezone.now()
    currencies = (
        [currency]
        if currency
        else list(
            Balance.objects.filter(customer=customer, amount__gt=0)
            .order_by("currency")
            .values_list("currency", flat=True)
        )
    )
    notes: list[CreditNote] = []
    for cur in currencies:
        balance = locked_balance(customer, cur)
        for credit, remaining in _live_chains(customer, cur):
            kind = target_kind(credit)
            while remaining > 0 and balance.amount > 0:
                invoice = _next_invoice(customer, cur, kind)
                if invoice is None:
                    break
                amount = min(remaining, balance.amount, invoice.total)
                notes.append(_apply_one(balance, credit, invoice, amount, actor, now))
                remaining -= amount
    return notes


def credits_apply_owed(*, now: datetime | None = None) -> int:
    """The hourly sweep: apply what any customer holds where an open invoice of theirs
    in that currency exists (an application lost with its worker, an invoice recorded
    while its receiver failed). Returns how many credit notes were issued."""
    open_invoice = Invoice.objects.filter(
        customer_id=OuterRef("customer_id"),
        currency=OuterRef("currency"),
        paid_at__isnull=True,
        total__gt=0,
    )
    pairs = (
        Balance.objects.filter(Exists(open_invoice), amount__gt=0)
        .order_by("customer_id", "currency")
        .values_list("customer_id", "currency")
    )
    issued = 0
    for customer_id, currency in list(pairs):
        customer = Customer.objects.get(pk=customer_id)
        issued += len(credits_apply(customer=customer, currency=currency, now=now))
    return issued


def invoice_recorded_received(sender: type, *, invoice: Invoice, **kwargs: object) -> None:
    """Receiver of ``contracts.signals.invoice_recorded`` (inside the recording's
    transaction): credits waiting for an invoice of this currency go on it now."""
    credits_apply(customer=invoice.customer, currency=invoice.currency)


# ---------------------------------------------------------------- reversal


def _already_reversed(note: CreditNote) -> ValidationError:
    return ValidationError({"credit_note": [f"Credit note {note.number} is already reversed."]})


def credit_note_reverse(
    *, note: CreditNote, actor: User | None, reason: str, now: datetime | None = None
) -> CreditNote:
    """Reverse an application: the invoice gets the amount back as a charge line, the
    account gets it back in the ledger, and a new credit note names the one it reverses.
    Only while the invoice is unpaid. ``actor`` None is the system (a revision)."""
    with transaction.atomic():
        if actor is not None:
            require_staff_for(actor, note.customer)
        text = require_reason(reason, what=" for the reversal")
        now = now or timezone.now()
        balance = locked_balance(note.customer, note.currency)
        invoice = Invoice.objects.select_for_update().get(pk=note.invoice_id)
        if note.kind != CreditNote.Kind.CREDIT:
            raise ValidationError(
                {"credit_note": [f"{note.number} is itself a reversal; it cannot be reversed."]}
            )
        if CreditNote.objects.filter(reverses=note).exists():
            raise _already_reversed(note)
        if invoice.paid_at is not None:
            raise ValidationError(
                {
                    "credit_note": [
                        f"Credit note {note.number} is on invoice {invoice.number}, which is "
                        "paid; it cannot be taken back from a paid invoice. Post a manual "
                        "adjustment instead."
                    ]
                }
            )
        number = _number(now)
        line = InvoiceLine.objects.create(
            invoice=invoice,
            kind=InvoiceLine.Kind.CHARGE,
            description=f"Reversal of credit note {note.number} (credit note {number[2]}): {text}"[
                :300
            ],
            amount=note.amount,
        )
        total_before = invoice.total
        invoice.total = total_before + note.amount
        invoice.save(update_fields=["total"])
        try:
            with transaction.atomic():
                entry = post(
                    balance,
                    kind=Kind.REVERSAL,
                    amount=note.amount,
                    description=f"Reversal of credit note {note.number} by {number[2]}: {text}",
                    actor=actor,
                    contract=note.credit.contract,
                    reverses=note.entry,
                    credit=note.credit,
                )
        except IntegrityError:
            raise _already_reversed(note) from None
        details = {
            **_details(note.credit, invoice, total_before),
            "reverses": note.number,
            "reason": text,
        }
        reversal = _issue(
            kind=CreditNote.Kind.REVERSAL,
            credit=note.credit,
            invoice=invoice,
            line=line,
            entry=entry,
            amount=note.amount,
            number=number,
            details=details,
            now=now,
            reverses=note,
        )
        CreditEvent.objects.create(
            credit=note.credit,
            action="application_reversed",
            actor=actor,
            note=f"Credit note {note.number} reversed by {reversal.number}: {text}",
        )
        audit_record(
            actor=actor,
            action="credit_note.reverse",
            obj=note,
            changes={
                "reversed_by": {"before": None, "after": reversal.number},
                "total": {"before": total_before, "after": invoice.total},
            },
            reason=text,
            label=f"{note.number}: invoice {invoice.number} ({invoice.customer})",
            at=now,
        )
        emit_note_issued(reversal, line, now=now)
        return reversal


def make_room(chain: Chain, needed: Decimal, *, reason: str, actor: User | None) -> None:
    """Before ``needed`` is taken out of a chain (a grant reversed), reverse its latest
    applications until the chain holds that much (the caller holds the balance lock).
    Applications on paid invoices cannot be reversed: then this refuses."""
    held = chain_remaining(chain)
    if held >= needed:
        return
    applied = (
        CreditNote.objects.filter(
            _chain_q(chain, "credit__"), kind=CreditNote.Kind.CREDIT, reversed_by__isnull=True
        )
        .select_related("invoice", "credit__contract", "customer")
        .order_by("-issued_at", "-pk")
    )
    for note in applied:
        if held >= needed:
            return
        if note.invoice.paid_at is not None:
            continue
        credit_note_reverse(note=note, actor=actor, reason=reason)
        held += note.amount
    if held < needed:
        raise ValidationError(
            {
                "credit": [
                    f"{needed - held} {'' if not applied else applied[0].currency} of this "
                    "credit is on paid invoices and cannot be taken back; ask an "
                    "administrator for a manual adjustment."
                ]
            }
        )


# ---------------------------------------------------------------- direction


@transaction.atomic
def credit_direct(
    *, credit: Credit, invoice_kind: str, actor: User, now: datetime | None = None
) -> Credit:
    """The account manager directs a credit to another kind of invoice its policy allows
    (the tiered SLA: a Professional Services invoice). What is already applied stays;
    the rest goes to the next invoice of that kind."""
    locked = (
        Credit.objects.select_for_update(of=("self",))
        .select_related("contract__customer", "contract__policy", "service")
        .get(pk=credit.pk)
    )
    require_account_manager(actor, locked.contract.customer)
    allowed = invoice_kinds(locked)
    if invoice_kind not in allowed:
        labels = dict(Invoice.Kind.choices)
        raise ValidationError(
            {
                "invoice_kind": [
                    f"Under {locked.contract.policy.name} a credit goes to "
                    + " or ".join(labels.get(k, k).lower() for k in allowed)
                    + " invoices."
                ]
            }
        )
    if locked.status in (Credit.Status.REJECTED, Credit.Status.INELIGIBLE):
        raise ValidationError(
            {"invoice_kind": [f"This credit is {locked.get_status_display().lower()}."]}
        )
    before = target_kind(locked)
    locked.invoice_kind = "" if invoice_kind == allowed[0] else invoice_kind
    locked.save(update_fields=["invoice_kind"])
    audit_record(
        actor=actor,
        action="credit.direct",
        obj=locked,
        changes={"invoice_kind": {"before": before, "after": invoice_kind}},
    )
    CreditEvent.objects.create(
        credit=locked,
        action="directed",
        actor=actor,
        note=f"To the next {dict(Invoice.Kind.choices)[invoice_kind].lower()} invoice",
    )
    if locked.status == Credit.Status.APPROVED:
        credits_apply(customer=locked.contract.customer, currency=locked.currency, now=now)
    credit.invoice_kind = locked.invoice_kind
    return credit
