"""An issued invoice is frozen by the database itself (contracts migration 0006), whatever
the code path: plain SQL through the application's own connection (its database role)
cannot change its customer, contract, amount or any other content, nor delete it, nor
touch a line; only ``paid_at`` may change, and ``total`` only to the sum of the lines.
Each test runs on the run's database (SQLite by default); the ``postgres`` twins make sure
a PostgreSQL run (CI) exercises the PostgreSQL trigger."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from contracts.models import Invoice, InvoiceLine
from tests.support.factories import ContractFactory, CustomerFactory, InvoiceFactory

D = Decimal
TABLE = Invoice._meta.db_table
LINES = InvoiceLine._meta.db_table
FROZEN = "an issued invoice cannot change"


@pytest.fixture
def issued(contract) -> Invoice:
    return InvoiceFactory(contract=contract, number="INV-FROZEN-1", amount=D("1200.00"))


def _sql(statement: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _snapshot(invoice: Invoice) -> tuple[dict, list[dict]]:
    return (
        Invoice.objects.filter(pk=invoice.pk).values().get(),
        list(InvoiceLine.objects.filter(invoice=invoice).values()),
    )


def _refused(invoice: Invoice, statement: str, params: list, words: str) -> None:
    before = _snapshot(invoice)
    with pytest.raises(IntegrityError, match=words), transaction.atomic():
        _sql(statement, params)
    assert _snapshot(invoice) == before


def _content_changes(invoice: Invoice) -> dict[str, tuple[str, object]]:
    """One plain-SQL change per frozen column: (SET clause, value)."""
    other = CustomerFactory(name="Someone Else Ltd")
    elsewhere = ContractFactory(customer=invoice.customer, policy=invoice.contract.policy)
    return {
        "amount": ("amount = %s", "1.00"),
        "customer": ("customer_id = %s", other.pk),
        "contract": ("contract_id = %s", elsewhere.pk),
        "currency": ("currency = %s", "EUR"),
        "kind": ("kind = %s", "professional_services"),
        "number": ("number = %s", "INV-FROZEN-2"),
        "period_start": ("period_start = %s", "2025-12-01"),
        "period_end": ("period_end = %s", "2026-02-28"),
        "issued_on": ("issued_on = %s", "2025-12-15"),
        "due_on": ("due_on = %s", "2026-03-31"),
    }


FIELDS = [
    "amount",
    "customer",
    "contract",
    "currency",
    "kind",
    "number",
    "period_start",
    "period_end",
    "issued_on",
    "due_on",
]


@pytest.mark.parametrize("name", FIELDS)
def test_sql_cannot_change_any_content_of_an_issued_invoice(issued, name):
    clause, value = _content_changes(issued)[name]
    _refused(issued, f"UPDATE {TABLE} SET {clause} WHERE id = %s", [value, issued.pk], FROZEN)


@pytest.mark.parametrize("name", ["amount", "customer"])
def test_on_postgresql_sql_cannot_change_an_issued_invoice_s_amount_or_customer(
    postgres, issued, name
):
    assert connection.vendor == "postgresql"
    clause, value = _content_changes(issued)[name]
    _refused(issued, f"UPDATE {TABLE} SET {clause} WHERE id = %s", [value, issued.pk], FROZEN)


def test_the_orm_cannot_change_an_issued_invoice_either(issued):
    issued.amount = D("1.00")
    with pytest.raises(IntegrityError, match=FROZEN), transaction.atomic():
        issued.save()
    issued.refresh_from_db()
    assert issued.amount == D("1200.00")


def _pays(invoice: Invoice) -> None:
    paid_at = datetime(2026, 2, 3, 9, 30, tzinfo=UTC)
    assert _sql(f"UPDATE {TABLE} SET paid_at = %s WHERE id = %s", [paid_at, invoice.pk]) == 1
    invoice.refresh_from_db()
    assert invoice.paid_at == paid_at
    # Withdrawn again (a payment recorded in error), still only paid_at.
    _sql(f"UPDATE {TABLE} SET paid_at = NULL WHERE id = %s", [invoice.pk])
    invoice.refresh_from_db()
    assert invoice.paid_at is None
    assert (invoice.amount, invoice.total, invoice.number) == (
        D("1200.00"),
        D("1200.00"),
        "INV-FROZEN-1",
    )


def test_sql_may_record_the_payment(issued):
    _pays(issued)


def test_on_postgresql_sql_may_record_the_payment(postgres, issued):
    _pays(issued)


def _totals_follow_lines(invoice: Invoice) -> None:
    _refused(
        invoice,
        f"UPDATE {TABLE} SET total = %s WHERE id = %s",
        ["1000.00", invoice.pk],
        "an invoice total must equal the sum of its lines",
    )
    # A correction is a new line; then the total is the new sum.
    InvoiceLine.objects.create(
        invoice=invoice, kind="credit", description="Service credit", amount=D("-200.00")
    )
    _sql(f"UPDATE {TABLE} SET total = %s WHERE id = %s", ["1000.00", invoice.pk])
    invoice.refresh_from_db()
    assert (invoice.amount, invoice.total) == (D("1200.00"), D("1000.00"))


def test_the_total_changes_only_to_the_sum_of_the_lines(issued):
    _totals_follow_lines(issued)


def test_on_postgresql_the_total_changes_only_to_the_sum_of_the_lines(postgres, issued):
    _totals_follow_lines(issued)


def _nothing_deleted(invoice: Invoice) -> None:
    line = invoice.lines.get()
    for statement, params, words in [
        (f"UPDATE {LINES} SET amount = %s WHERE id = %s", ["1.00", line.pk], "invoice lines"),
        (f"UPDATE {LINES} SET description = %s WHERE id = %s", ["x", line.pk], "invoice lines"),
        (f"DELETE FROM {LINES} WHERE id = %s", [line.pk], "invoice lines"),
        (f"DELETE FROM {TABLE} WHERE id = %s", [invoice.pk], "an invoice cannot be deleted"),
    ]:
        _refused(invoice, statement, params, words)


def test_a_line_cannot_be_updated_or_deleted_nor_the_invoice_deleted(issued):
    _nothing_deleted(issued)


def test_on_postgresql_a_line_cannot_be_updated_or_deleted_nor_the_invoice_deleted(
    postgres, issued
):
    _nothing_deleted(issued)
