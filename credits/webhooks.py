"""The credits events billing systems subscribe to, with their documented payloads.

``credit.pending``, ``credit.approved``, ``credit.rejected``: a credit's decision state;
``credit.applied``: part of a credit went on an invoice; ``credit_note.issued``: a credit
note (or its reversal) was issued; ``invoice.adjusted``: an invoice's total changed by
a credit note. Each is written to the outbox in the transaction of the change that
causes it, keyed so that running that change again sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from rest_framework import serializers

from contracts.models import InvoiceLine
from credits.models import Credit, CreditNote
from outbox.models import WebhookEndpoint
from outbox.services import webhook_emit
from outbox.webhooks import register_event


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CreditPayloadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = CustomerRefSerializer()
    contract = serializers.CharField(help_text="The contract's reference.")
    contract_id = serializers.IntegerField()
    service = serializers.CharField()
    month = serializers.CharField(help_text="YYYY-MM")
    revision = serializers.IntegerField()
    statement = serializers.CharField(help_text="The statement's number (may be empty).")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    availability_pct = serializers.DecimalField(max_digits=10, decimal_places=6)
    status = serializers.ChoiceField(choices=Credit.Status.choices)
    reason = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField(allow_null=True)


class InvoiceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class CreditNotePayloadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=CreditNote.Kind.choices)
    reverses = serializers.CharField(allow_null=True, help_text="The reversed note's number.")
    customer = CustomerRefSerializer()
    invoice = InvoiceRefSerializer()
    credit_id = serializers.IntegerField()
    statement = serializers.CharField()
    month = serializers.CharField()
    service = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    issued_at = serializers.DateTimeField()
    pdf_url = serializers.CharField(help_text="API path of the PDF.")


class CreditAppliedPayloadSerializer(serializers.Serializer):
    credit = CreditPayloadSerializer()
    invoice = InvoiceRefSerializer()
    credit_note = serializers.CharField(help_text="The credit note's number.")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()


class InvoiceLinePayloadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class InvoiceAdjustedPayloadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    customer = CustomerRefSerializer()
    contract = serializers.CharField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    line = InvoiceLinePayloadSerializer()
    credit_note = serializers.CharField()


def register() -> None:
    for name, serializer, text in (
        ("credit.pending", CreditPayloadSerializer, "A credit was computed; it awaits approval."),
        ("credit.approved", CreditPayloadSerializer, "An account manager approved a credit."),
        ("credit.rejected", CreditPayloadSerializer, "An account manager rejected a credit."),
        (
            "credit.applied",
            CreditAppliedPayloadSerializer,
            "Part or all of a credit was applied to an invoice by a credit note.",
        ),
        (
            "credit_note.issued",
            CreditNotePayloadSerializer,
            "A credit note was issued (a credit applied, or the reversal of one).",
        ),
        (
            "invoice.adjusted",
            InvoiceAdjustedPayloadSerializer,
            "An invoice's total changed by a credit note's line.",
        ),
    ):
        register_event(name, serializer=serializer, description=text)


def credit_data(credit: Credit) -> dict:
    customer = credit.contract.customer
    return {
        "id": credit.pk,
        "customer": {"id": customer.pk, "name": customer.name},
        "contract": credit.contract.reference,
        "contract_id": credit.contract_id,
        "service": credit.service.name,
        "month": f"{credit.month:%Y-%m}",
        "revision": credit.revision,
        "statement": credit.statement_number,
        "amount": str(credit.amount),
        "currency": credit.currency,
        "availability_pct": str(credit.availability_pct),
        "status": credit.status,
        "reason": credit.reason,
        "decided_at": credit.decided_at.isoformat() if credit.decided_at else None,
    }


def emit_credit(
    credit: Credit, *, now: datetime | None = None, endpoints: list[WebhookEndpoint] | None = None
) -> None:
    """``credit.<status>`` for a pending, approved or rejected credit (``endpoints``: as
    ``outbox.services.webhook_emit`` takes them)."""
    if credit.status not in (Credit.Status.PENDING, Credit.Status.APPROVED, Credit.Status.REJECTED):
        return
    webhook_emit(
        event=f"credit.{credit.status}",
        data=credit_data(credit),
        dedupe_key=f"credit:{credit.pk}:{credit.status}",
        now=now,
        endpoints=endpoints,
    )


def note_data(note: CreditNote) -> dict:
    details = note.details
    return {
        "id": note.pk,
        "number": note.number,
        "kind": note.kind,
        "reverses": note.reverses.number if note.reverses_id else None,
        "customer": {"id": note.customer_id, "name": details["customer"]["name"]},
        "invoice": {"id": note.invoice_id, "number": details["invoice"]["number"]},
        "credit_id": note.credit_id,
        "statement": details.get("statement", ""),
        "month": details.get("month", ""),
        "service": details.get("service", ""),
        "amount": str(note.amount),
        "currency": note.currency,
        "issued_at": note.issued_at.isoformat(),
        "pdf_url": f"/api/v1/credit-notes/{note.pk}/pdf/",
    }


def _invoice_adjusted(note: CreditNote, line: InvoiceLine, now: datetime | None) -> None:
    invoice = note.invoice
    webhook_emit(
        event="invoice.adjusted",
        data={
            "id": invoice.pk,
            "number": invoice.number,
            "customer": {"id": note.customer_id, "name": note.details["customer"]["name"]},
            "contract": note.details["contract"]["reference"],
            "total": str(invoice.total),
            "currency": invoice.currency,
            "line": {
                "id": line.pk,
                "kind": line.kind,
                "description": line.description,
                "amount": str(line.amount),
            },
            "credit_note": note.number,
        },
        dedupe_key=f"invoice-adjusted:{line.pk}",
        now=now,
    )


def emit_note_issued(note: CreditNote, line: InvoiceLine, *, now: datetime | None = None) -> None:
    webhook_emit(
        event="credit_note.issued",
        data=note_data(note),
        dedupe_key=f"credit-note:{note.pk}",
        now=now,
    )
    _invoice_adjusted(note, line, now)


def emit_applied(note: CreditNote, line: InvoiceLine, *, now: datetime | None = None) -> None:
    """``credit.applied``, ``credit_note.issued`` and ``invoice.adjusted`` for one
    application."""
    webhook_emit(
        event="credit.applied",
        data={
            "credit": credit_data(note.credit),
            "invoice": {"id": note.invoice_id, "number": note.invoice.number},
            "credit_note": note.number,
            "amount": str(note.amount),
            "currency": note.currency,
        },
        dedupe_key=f"credit-applied:{note.pk}",
        now=now,
    )
    emit_note_issued(note, line, now=now)
