"""The money trail end to end, through the API, on PostgreSQL: an outage, the monthly
run, a pending credit, the account manager's approval; then the credit is on the next
open invoice as a negative line by a numbered credit note, the ledger balance is zero,
the customer has had one statement e-mail and one credit-note e-mail over SMTP, and the
billing system's endpoint has heard ``credit.approved``, ``credit.applied`` and
``credit_note.issued`` once each, signed. Everything run a second time doubles nothing."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from contracts.models import Customer, Invoice
from credits.models import CreditNote, LedgerEntry
from credits.services import credits_apply_owed
from credits.services.documents import credit_notes_deliver_owed
from outbox.models import WebhookDelivery
from outbox.services import (
    outbox_dispatch_overdue,
    webhook_dispatch_overdue,
    webhook_endpoint_create,
)
from statements.models import Statement
from statements.services import statements_tick
from tests.support.api_helpers import API, client_for
from tests.support.credit_cases import contract_with_lines
from tests.support.smtp import attachments

D = Decimal
EVENTS = ["credit.approved", "credit.applied", "credit_note.issued"]


def _subjects(smtp) -> list[str]:
    from email.header import decode_header, make_header

    return [str(make_header(decode_header(m["Subject"]))) for m in smtp.received]


@pytest.fixture
def trail(
    postgres,
    catalog,
    customer,
    account_manager,
    operations,
    admin_user,
    statement_media,
    celery_eager,
    smtp,
    webhook_receiver,
):
    customer.account_managers.add(account_manager)
    Customer.objects.filter(pk=customer.pk).update(billing_emails="ap@northwind.test")
    contract = contract_with_lines(
        customer, "heretto-ccms", {"Heretto CCMS": "4000.00", "Cloud Publishing": "1500.00"}
    )
    endpoint = webhook_endpoint_create(
        actor=admin_user, url=webhook_receiver.url, events=EVENTS, description="Billing"
    )
    return contract, endpoint


def _run_once(contract, account_manager, operations, capture, *, first: bool) -> None:
    """What the people and the billing system do, through the API."""
    billing = client_for(account_manager)
    ops = client_for(operations)
    service = contract.lines.get(service__name="Heretto CCMS").service
    with capture(execute=True):
        invoice = billing.post(
            f"{API}invoices/",
            {
                "contract": contract.pk,
                "number": "NW-INV-2026-07",
                "kind": "subscription",
                "period_start": "2026-07-01",
                "period_end": "2026-07-31",
                "amount": "5500.00",
                "issued_on": "2026-07-01",
                "due_on": "2026-07-31",
            },
            format="json",
        )
    assert invoice.status_code == (201 if first else 200), invoice.json()
    if first:
        with capture(execute=True):
            outage = ops.post(
                f"{API}outages/",
                {
                    "service": service.pk,
                    "started_at": "2026-06-10T16:00:00Z",
                    "confirmed_at": "2026-06-10T16:00:00Z",
                    "ended_at": "2026-06-10T21:00:00Z",
                    "category": "internal",
                    "title": "Editor unavailable",
                    "description": "Users could not open the editor.",
                },
                format="json",
            )
        assert outage.status_code == 201, outage.json()
    with capture(execute=True):
        run = billing.post(f"{API}statements/generate/", {"month": "2026-06"}, format="json")
    assert run.status_code in (200, 201, 202), run.json()
    credits = billing.get(f"{API}credits/", {"contract": contract.pk}).json()["results"]
    [credit] = [c for c in credits if c["service"] == service.pk]
    assert (credit["amount"], credit["status"] if first else "approved") == (
        "200.00",
        "pending" if first else "approved",
    )
    with capture(execute=True):
        approved = billing.post(f"{API}credits/{credit['id']}/approve/")
    if first:
        assert approved.status_code == 200, approved.json()
    else:  # already decided: refused, nothing written
        assert approved.status_code == 400
    # The hourly sweeps find nothing owed.
    with capture(execute=True):
        credits_apply_owed()
        credit_notes_deliver_owed()
        statements_tick()
        outbox_dispatch_overdue()
        webhook_dispatch_overdue()


def test_an_approved_credit_reaches_the_bill_the_customer_and_the_billing_system_once(
    trail, account_manager, operations, smtp, webhook_receiver, django_capture_on_commit_callbacks
):
    contract, endpoint = trail
    for first in (True, False):
        _run_once(
            contract, account_manager, operations, django_capture_on_commit_callbacks, first=first
        )

        invoice = Invoice.objects.get(number="NW-INV-2026-07")
        lines = list(invoice.lines.order_by("pk").values_list("kind", "amount"))
        assert lines == [("charge", D("5500.00")), ("credit", D("-200.00"))]
        assert invoice.total == D("5300.00")
        assert sum(LedgerEntry.objects.values_list("amount", flat=True)) == D("0.00")
        [note] = CreditNote.objects.all()
        assert note.number == "CN-2026-000001" and note.amount == D("200.00")
        assert note.invoice == invoice
        text = "".join(
            page.extract_text() for page in PdfReader(io.BytesIO(note.file.pdf.read())).pages
        )
        assert "CN-2026-000001" in text and "NW-INV-2026-07" in text and "200.00" in text

        statement = Statement.objects.get(contract=contract, month=date(2026, 6, 1))
        subjects = _subjects(smtp)
        # The tick also states the contract's later, creditless months; of June's trail
        # the customer has exactly one statement e-mail and one credit-note e-mail.
        assert len([s for s in subjects if statement.number in s]) == 1, subjects
        assert len([s for s in subjects if note.number in s]) == 1, subjects
        files = {name: m for m in smtp.received for name in attachments(m)}
        assert {f"{statement.number}.pdf", f"{note.number}.pdf"} <= set(files)
        if first:
            sent_after_first = len(subjects)
        assert len(subjects) == sent_after_first  # the second run sent nothing
        assert all(m["To"] == "ap@northwind.test" for m in smtp.received)

        seen: dict[str, list[dict]] = {}
        for request in webhook_receiver.received:
            payload = request.verified(endpoint.secret)  # raises on a bad signature
            seen.setdefault(payload["type"], []).append(payload["data"])
        assert {event: len(sent) for event, sent in seen.items()} == dict.fromkeys(EVENTS, 1)
        assert seen["credit.approved"][0]["amount"] == "200.00"
        assert seen["credit.applied"][0]["invoice"]["number"] == "NW-INV-2026-07"
        assert seen["credit_note.issued"][0]["number"] == "CN-2026-000001"
        assert WebhookDelivery.objects.filter(status="delivered").count() == 3
