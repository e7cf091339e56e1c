"""The credit note as a PDF: ``render_credit_note_pdf(note) -> bytes``, pure: it reads
only the note's own row and its issued ``details`` snapshot, so rendering a note again
gives the same document (and the same bytes, see ``slaportal.pdf``).

WeasyPrint renders ``templates/credits/pdf/credit_note.html`` with the statements'
stylesheet (the house style) and ``credit-note.css`` on top.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string

from contracts.models import Invoice
from credits.models import CreditNote
from slaportal.money import format_money
from slaportal.pdf import html_to_pdf

STYLESHEETS = ("css/statement.css", "css/credit-note.css")
TEMPLATE = "credits/pdf/credit_note.html"
UTC = ZoneInfo("UTC")


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def credit_note_context(note: CreditNote) -> dict:
    """Everything the document says, from the note as issued."""
    details = note.details
    credit = details.get("credit", {})
    invoice = details.get("invoice", {})
    policy = credit.get("policy", {})
    currency = note.currency
    reversal = note.kind == CreditNote.Kind.REVERSAL
    before = Decimal(invoice.get("total_before") or 0)
    after = Decimal(invoice.get("total_after") or 0)
    return {
        "note": note,
        "d": details,
        "reversal": reversal,
        "title": "Credit note — reversal" if reversal else "Credit note",
        # The issue day in UTC, the zone every note is numbered in (its year is UTC's).
        "issued_on": note.issued_at.astimezone(UTC).date(),
        "amount_text": format_money(note.amount, currency),
        "signed_amount_text": ("+" if reversal else "−") + format_money(note.amount, currency),
        "invoice_before_text": format_money(before, currency),
        "invoice_after_text": format_money(after, currency),
        "invoice_kind": dict(Invoice.Kind.choices).get(invoice.get("kind", ""), ""),
        "invoice_issued_on": _day(invoice.get("issued_on")),
        "invoice_period_start": _day(invoice.get("period_start")),
        "invoice_period_end": _day(invoice.get("period_end")),
        "credit_amount_text": format_money(Decimal(credit.get("amount") or 0), currency),
        "month": _day(f"{details['month']}-01") if details.get("month") else None,
        "policy": policy,
        # The multiplier SLA: credits "are not refunds" and "cannot be exchanged into a
        # cash amount"; a policy that says nothing is treated the same way.
        "not_for_cash": not policy.get("cash_refundable", False),
    }


def render_credit_note_html(note: CreditNote) -> str:
    return render_to_string(TEMPLATE, credit_note_context(note))


def render_credit_note_pdf(note: CreditNote) -> bytes:
    return html_to_pdf(render_credit_note_html(note), STYLESHEETS)
