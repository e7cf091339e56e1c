"""Approved credits reach the bill: the next open invoice of the policy's kind gets a
negative line by a numbered credit note; the rest waits for the next invoice; a
reversal is a new note; expiry writes off what is left."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contracts.models import Invoice
from credits.models import Credit, CreditNote, LedgerEntry
from credits.selectors import credit_states, customer_balance
from credits.services import (
    credit_approve,
    credit_compute,
    credit_direct,
    credit_note_reverse,
    credits_apply,
    credits_apply_owed,
    credits_expire_on_termination,
    ledger_reverse,
)
from tests.support.credit_cases import NOW, contract_with_lines
from tests.support.factories import InvoiceFactory, StaffFactory, grant, pending_credit

D = Decimal
JUNE = date(2026, 6, 1)


def _invoice(contract, *, amount="1000.00", due=date(2026, 7, 31), **kw) -> Invoice:
    return InvoiceFactory(
        contract=contract,
        amount=D(amount),
        issued_on=due - timedelta(days=30),
        due_on=due,
        **kw,
    )


def test_approving_puts_the_credit_on_the_next_open_invoice_by_a_numbered_credit_note(
    heretto, account_manager
):
    paid = _invoice(heretto, due=date(2026, 7, 1), paid_at=NOW)
    later = _invoice(heretto, due=date(2026, 8, 31))
    first = _invoice(heretto, due=date(2026, 7, 31))
    (credit,) = credit_compute(contract=heretto, month=JUNE, now=NOW, statement_number="ST-X-1")
    credit_approve(credit=credit, actor=account_manager, now=NOW)

    note = CreditNote.objects.get()
    assert (note.number, note.invoice, note.amount, note.currency) == (
        "CN-2026-000001",
        first,
        D("200.00"),
        "USD",
    )
    line = note.invoice_line
    assert (line.invoice, line.kind, line.amount) == (first, "credit", D("-200.00"))
    assert "ST-X-1" in line.description and f"credit #{credit.pk}" in line.description
    assert "CN-2026-000001" in line.description
    first.refresh_from_db(), later.refresh_from_db(), paid.refresh_from_db()
    assert (first.total, later.total, paid.total) == (D("800.00"), D("1000.00"), D("1000.00"))
    assert note.entry.kind == LedgerEntry.Kind.CREDIT_APPLIED
    assert note.entry.credit == credit
    assert customer_balance(heretto.customer, "USD") == D("0.00")
    assert note.details["statement"] == "ST-X-1"
    assert note.details["service"] == "Heretto CCMS"
    assert note.details["credit"]["availability_pct"] == "99.305555"
    assert note.details["invoice"] == {
        **note.details["invoice"],
        "number": first.number,
        "total_before": "1000.00",
        "total_after": "800.00",
    }
    state = credit_states([credit.pk])[credit.pk]
    assert state.status == "applied"
    assert state.label == f"Applied to invoice {first.number} by credit note CN-2026-000001"
    # Nothing left to apply: running it again issues nothing.
    assert credits_apply(customer=heretto.customer) == []
    assert credits_apply_owed(now=NOW) == 0
    assert CreditNote.objects.count() == 1


def test_approval_without_an_open_invoice_holds_the_credit_until_one_is_recorded(
    heretto, account_manager
):
    credit = grant(heretto, account_manager, "250.00")
    state = credit_states([credit.pk])[credit.pk]
    assert (state.status, state.remaining) == ("approved", D("250.00"))
    assert "held on your account" in state.label and "applied" not in state.label.lower()
    assert CreditNote.objects.count() == 0

    small = _invoice(heretto, amount="100.00")
    credits_apply(customer=heretto.customer, currency="USD")  # what recording it does
    small.refresh_from_db()
    assert small.total == D("0.00")  # never below zero
    state = credit_states([credit.pk])[credit.pk]
    assert (state.status, state.remaining) == ("partly_applied", D("150.00"))

    nxt = _invoice(heretto, due=date(2026, 8, 31))
    notes = credits_apply(customer=heretto.customer, currency="USD")
    assert [(n.number, n.invoice, n.amount) for n in notes] == [
        ("CN-2026-000002", nxt, D("150.00"))
    ]
    nxt.refresh_from_db()
    assert nxt.total == D("850.00")
    assert customer_balance(heretto.customer, "USD") == D("0.00")
    assert credit_states([credit.pk])[credit.pk].status == "applied"


def test_the_sweep_applies_credits_that_missed_their_invoice(heretto, account_manager):
    grant(heretto, account_manager, "75.00")
    invoice = _invoice(heretto)  # written directly: no signal, as if its receiver had failed
    assert credits_apply_owed(now=NOW) == 1
    invoice.refresh_from_db()
    assert invoice.total == D("925.00")
    assert credits_apply_owed(now=NOW) == 0


def test_other_currencies_kinds_customers_and_paid_invoices_never_receive_it(
    heretto, account_manager, other_customer
):
    eur = contract_with_lines(
        heretto.customer, "heretto-ccms", {"Heretto EU": "900.00"}, currency="EUR"
    )
    in_eur = _invoice(eur, currency="EUR")
    services = _invoice(heretto, kind=Invoice.Kind.PROFESSIONAL_SERVICES)
    paid = _invoice(heretto, paid_at=NOW)
    foreign_contract = contract_with_lines(other_customer, "heretto-ccms", {"Other": "10.00"})
    foreign = _invoice(foreign_contract)
    grant(heretto, account_manager, "50.00")
    for invoice in (in_eur, services, paid, foreign):
        invoice.refresh_from_db()
        assert invoice.total == invoice.amount
    assert CreditNote.objects.count() == 0
    assert customer_balance(heretto.customer, "USD") == D("50.00")


def test_the_account_manager_may_direct_a_tiered_credit_to_a_professional_services_invoice(
    heretto, account_manager
):
    subscription = _invoice(heretto, due=date(2026, 8, 31))
    services = _invoice(heretto, kind=Invoice.Kind.PROFESSIONAL_SERVICES)
    credit = pending_credit(heretto, "120.00")
    credit_direct(
        credit=credit, invoice_kind=Invoice.Kind.PROFESSIONAL_SERVICES, actor=account_manager
    )
    credit_approve(credit=credit, actor=account_manager)
    note = CreditNote.objects.get()
    assert note.invoice == services
    subscription.refresh_from_db()
    assert subscription.total == D("1000.00")


def test_the_multiplier_policy_keeps_credits_to_subscription_invoices(balto, account_manager):
    credit = pending_credit(balto, "100.00")
    with pytest.raises(ValidationError) as refused:
        credit_direct(
            credit=credit, invoice_kind=Invoice.Kind.PROFESSIONAL_SERVICES, actor=account_manager
        )
    assert "subscription" in refused.value.message_dict["invoice_kind"][0]
    credit.refresh_from_db()
    assert credit.invoice_kind == ""


def test_only_the_customers_account_manager_may_direct_a_credit(heretto, catalog):
    stranger = StaffFactory(role="account_manager")
    with pytest.raises(PermissionDenied):
        credit_direct(
            credit=pending_credit(heretto),
            invoice_kind=Invoice.Kind.PROFESSIONAL_SERVICES,
            actor=stranger,
        )


def test_reversing_an_applied_credit_issues_a_new_note_naming_the_first(heretto, account_manager):
    invoice = _invoice(heretto)
    credit = grant(heretto, account_manager, "200.00")
    note = CreditNote.objects.get()
    grant_entry = credit.entries.get(kind="credit_granted")
    ledger_reverse(entry=grant_entry, actor=account_manager, reason="granted in error")

    reversal = CreditNote.objects.get(kind=CreditNote.Kind.REVERSAL)
    assert (reversal.number, reversal.reverses, reversal.amount) == (
        "CN-2026-000002",
        note,
        D("200.00"),
    )
    invoice.refresh_from_db()
    assert invoice.total == D("1000.00")
    assert [(line.kind, line.amount) for line in invoice.lines.order_by("pk")] == [
        ("charge", D("1000.00")),
        ("credit", D("-200.00")),
        ("charge", D("200.00")),
    ]
    assert customer_balance(heretto.customer, "USD") == D("0.00")
    assert credit_states([credit.pk])[credit.pk].status == "withdrawn"
    # The first note is untouched; a second reversal is refused.
    with pytest.raises(ValidationError, match="already reversed"):
        credit_note_reverse(note=note, actor=account_manager, reason="again")


def test_an_application_on_a_paid_invoice_cannot_be_taken_back(heretto, account_manager):
    invoice = _invoice(heretto)
    grant(heretto, account_manager, "200.00")
    Invoice.objects.filter(pk=invoice.pk).update(paid_at=NOW)
    note = CreditNote.objects.get()
    with pytest.raises(ValidationError, match="paid"):
        credit_note_reverse(note=note, actor=account_manager, reason="late")
    assert CreditNote.objects.count() == 1


def test_a_lower_revision_takes_back_only_the_difference(heretto, account_manager):
    invoice = _invoice(heretto)
    first = grant(heretto, account_manager, "200.00")
    revised = Credit.objects.create(
        contract=heretto,
        service=first.service,
        month=first.month,
        revision=2,
        amount=D("150.00"),
        currency="USD",
        availability_pct=D("99.4"),
        working={},
        status=Credit.Status.PENDING,
    )
    credit_approve(credit=revised, actor=account_manager)
    invoice.refresh_from_db()
    assert invoice.total == D("850.00")  # 1000 − 150, whatever notes it took
    assert customer_balance(heretto.customer, "USD") == D("0.00")
    states = credit_states([first.pk, revised.pk])
    assert states[revised.pk].remaining == D("0.00")
    assert sum((s.applied_amount for s in states.values()), D("0")) == D("150.00")


def test_a_higher_revision_adds_the_difference_to_the_invoice(heretto, account_manager):
    invoice = _invoice(heretto)
    first = grant(heretto, account_manager, "200.00")
    revised = Credit.objects.create(
        contract=heretto,
        service=first.service,
        month=first.month,
        revision=2,
        amount=D("275.00"),
        currency="USD",
        availability_pct=D("99.1"),
        working={},
        status=Credit.Status.PENDING,
    )
    credit_approve(credit=revised, actor=account_manager)
    invoice.refresh_from_db()
    assert invoice.total == D("725.00")
    notes = list(CreditNote.objects.order_by("pk").values_list("credit_id", "amount", "kind"))
    assert notes == [(first.pk, D("200.00"), "credit"), (revised.pk, D("75.00"), "credit")]


def test_expiry_writes_off_each_credits_remainder_and_the_page_says_so(balto, account_manager):
    credit = grant(balto, account_manager, "100.00")
    balto.terminated_on = date(2026, 7, 1)
    balto.save(update_fields=["terminated_on"])
    assert credits_expire_on_termination(now=NOW + timedelta(days=2)) == 1
    entry = credit.entries.get(kind="credit_expired")
    assert entry.amount == D("-100.00")
    state = credit_states([credit.pk])[credit.pk]
    assert (state.status, state.expired) == ("expired", D("100.00"))
    assert "expired on termination" in state.label
    assert credits_expire_on_termination(now=NOW + timedelta(days=3)) == 0


def test_a_running_contract_in_another_currency_does_not_keep_a_terminated_ones_credit(
    balto, account_manager
):
    contract_with_lines(balto.customer, "balto-uptime", {"Balto EU": "10.00"}, currency="EUR")
    grant(balto, account_manager, "100.00")
    balto.terminated_on = date(2026, 7, 1)
    balto.save(update_fields=["terminated_on"])
    assert credits_expire_on_termination(now=NOW + timedelta(days=2)) == 1
    assert customer_balance(balto.customer, "USD") == D("0.00")
