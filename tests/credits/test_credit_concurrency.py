"""Real threads on real PostgreSQL row locks: approvals and ledger writes racing each other
produce exactly one outcome and never a lost update or a negative invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from contracts.models import Contract, Invoice, InvoiceLine, User
from contracts.services import invoice_create
from credits.models import Balance, Credit, CreditNote, LedgerEntry
from credits.services import credit_approve, credits_apply, ledger_reverse
from tests.support.concurrency import run_concurrently
from tests.support.factories import InvoiceFactory, grant, make_contract, pending_credit

D = Decimal


@pytest.fixture
def setting(postgres, transactional_db, customer, account_manager):
    customer.account_managers.add(account_manager)
    return customer, account_manager, make_contract(customer)


def test_ten_managers_approving_one_credit_make_one_approval(setting):
    customer, manager, contract = setting
    credit = pending_credit(contract, "200.00")

    def approve(_: int):
        return credit_approve(
            credit=Credit.objects.get(pk=credit.pk), actor=User.objects.get(pk=manager.pk)
        )

    results = run_concurrently(approve, 10)
    successes = [r for r in results if isinstance(r, Credit)]
    conflicts = [r for r in results if isinstance(r, ValidationError)]
    assert len(successes) == 1, results
    assert len(conflicts) == 9, results
    assert all(
        c.message_dict == {"status": ["This credit is already approved."]} for c in conflicts
    )
    assert LedgerEntry.objects.filter(credit=credit).count() == 1
    assert Balance.objects.get(customer=customer).amount == D("200.00")
    assert list(Credit.objects.get(pk=credit.pk).events.values_list("action", flat=True)) == [
        "approved"
    ]


def test_approving_different_credits_at_once_loses_no_update(setting):
    customer, manager, contract = setting
    credits = [
        pending_credit(contract, f"{10 * (i + 1)}.00", month=date(2026, i + 1, 1)) for i in range(5)
    ]

    def approve(i: int):
        return credit_approve(credit=credits[i], actor=User.objects.get(pk=manager.pk))

    results = run_concurrently(approve, 5)
    assert all(isinstance(r, Credit) for r in results), results
    # The balance row is created by the first writer and locked by all of them.
    assert Balance.objects.get(customer=customer).amount == D("150.00")
    assert LedgerEntry.objects.aggregate(s=Sum("amount"))["s"] == D("150.00")


def test_three_workers_applying_at_once_issue_one_credit_note(setting):
    customer, manager, contract = setting
    grant(contract, manager, "250.00")
    invoice = InvoiceFactory(contract=contract, amount=D("100.00"))

    def apply(_: int):
        return credits_apply(customer=customer, currency="USD")

    results = run_concurrently(apply, 3)
    assert sorted(len(r) for r in results) == [0, 0, 1], results
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.total == D("0.00")
    credit_lines = InvoiceLine.objects.filter(invoice=invoice, kind="credit")
    assert credit_lines.aggregate(s=Sum("amount"))["s"] == D("-100.00")
    assert list(CreditNote.objects.values_list("number", flat=True)) == ["CN-2026-000001"]
    assert Balance.objects.get(customer=customer).amount == D("150.00")


def test_five_reversals_of_one_entry_make_one(setting):
    customer, manager, contract = setting
    entry = grant(contract, manager, "80.00").entries.get()

    def reverse(_: int):
        return ledger_reverse(
            entry=LedgerEntry.objects.get(pk=entry.pk),
            actor=User.objects.get(pk=manager.pk),
            reason="granted in error",
        )

    results = run_concurrently(reverse, 5)
    assert sum(isinstance(r, LedgerEntry) for r in results) == 1, results
    assert sum(isinstance(r, ValidationError) for r in results) == 4, results
    assert LedgerEntry.objects.filter(reverses=entry).count() == 1
    assert Balance.objects.get(customer=customer).amount == D("0.00")


@pytest.mark.parametrize("round_", range(4))
def test_approval_racing_the_invoice_it_goes_on_reduces_that_invoice_once(setting, round_):
    """One manager approves a credit while the billing system records the invoice it
    should go on: whichever commits first, the credit lands on that invoice exactly once
    (at approval if the invoice is there, else when the invoice is recorded)."""
    customer, manager, contract = setting
    credit = pending_credit(contract, "200.00")

    def act(i: int):
        if i == 0:
            return credit_approve(
                credit=Credit.objects.get(pk=credit.pk), actor=User.objects.get(pk=manager.pk)
            )
        return invoice_create(
            contract=Contract.objects.get(pk=contract.pk),
            number=f"INV-RACE-{round_}",
            period_start=date(2026, 7, 1),
            period_end=date(2026, 7, 31),
            amount="1250.00",
            issued_on=date(2026, 8, 1),
            due_on=date(2026, 8, 31),
        )

    results = run_concurrently(act, 2)
    assert isinstance(results[0], Credit) and isinstance(results[1], Invoice), results
    invoice = Invoice.objects.get(number=f"INV-RACE-{round_}")
    assert invoice.total == D("1050.00")
    assert list(invoice.lines.filter(kind="credit").values_list("amount", flat=True)) == [
        D("-200.00")
    ]
    assert list(CreditNote.objects.values_list("number", "amount")) == [
        ("CN-2026-000001", D("200.00"))
    ]
    assert Balance.objects.get(customer=customer).amount == D("0.00")
    assert list(LedgerEntry.objects.order_by("pk").values_list("kind", "amount")) == [
        ("credit_granted", D("200.00")),
        ("credit_applied", D("-200.00")),
    ]
