"""Credit notes for the document tests: a real application (an outage's credit computed,
approved, and applied to an open invoice by a numbered note), its stored PDF under a
throwaway MEDIA_ROOT, and the notes' e-mails in the outbox."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.models import Contract
from credits.models import CreditNote
from credits.services import credit_approve, credit_compute, credit_note_reverse
from outbox.models import OutboxMessage
from tests.support.credit_cases import NOW
from tests.support.factories import InvoiceFactory

JUNE = date(2026, 6, 1)


@pytest.fixture
def note_media(settings, tmp_path):
    """Stored PDFs under a throwaway MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def open_invoice(contract: Contract, number: str = "", amount: str = "1000.00", **kw):
    extra = {"number": number} if number else {}
    return InvoiceFactory(
        contract=contract,
        amount=amount,
        issued_on=date(2026, 7, 1),
        due_on=date(2026, 7, 31),
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 31),
        **extra,
        **kw,
    )


def applied_note(
    contract: Contract, manager, *, invoice_number: str = "", statement_number: str = ""
) -> CreditNote:
    """June's credit of ``contract`` approved by ``manager`` and applied to a new open
    invoice: the credit note it issues."""
    invoice = open_invoice(contract, invoice_number)
    number = statement_number or f"ST-{contract.reference}-2026-06"
    (credit,) = credit_compute(contract=contract, month=JUNE, now=NOW, statement_number=number)
    credit_approve(credit=credit, actor=manager, now=NOW)
    return CreditNote.objects.get(credit=credit, invoice=invoice, kind=CreditNote.Kind.CREDIT)


def reversal_of(note: CreditNote, actor, reason: str = "Outage reclassified") -> CreditNote:
    return credit_note_reverse(note=note, actor=actor, reason=reason, now=NOW)


def note_emails(note: CreditNote) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(dedupe_key=f"credit-note:{note.pk}"))


def second_customers_note(customer, manager, service: str = "Other CCMS") -> CreditNote:
    """A note of another customer (managed by ``manager``): 300 minutes down in June
    under the tiered SLA, 5 % of 4,000.00 = 200.00 USD."""
    from datetime import datetime

    from tests.support.credit_cases import ET, contract_with_lines, record_down

    customer.account_managers.add(manager)
    contract = contract_with_lines(customer, "heretto-ccms", {service: "4000.00"})
    record_down(contract, service, datetime(2026, 6, 10, 12, tzinfo=ET), 300)
    return applied_note(contract, manager)
