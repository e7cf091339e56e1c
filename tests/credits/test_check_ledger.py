"""``manage.py check_ledger``: balances equal their ledger entries, invoice totals equal
their lines, an invoice's customer is its contract's; a deliberately broken fixture makes
it fail, naming the first mismatch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from importlib import import_module
from io import StringIO

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from contracts.models import Invoice
from credits.models import Balance
from credits.services import credits_apply
from tests.support.factories import CustomerFactory, InvoiceFactory, grant, make_contract

D = Decimal


INVOICE_TABLES = ("contracts_invoice", "contracts_invoiceline")


def _alter_triggers(cursor, action: str) -> None:
    # A table with deferred foreign-key checks still pending cannot be altered: run them
    # now, then defer again as Django's constraints are.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in INVOICE_TABLES:
        cursor.execute(f"ALTER TABLE {table} {action} TRIGGER USER")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def invoice_guard_lifted() -> Iterator[None]:
    """The database refuses a total that is not the sum of the lines and any change of an
    invoice's customer (contracts migration 0006), so a broken invoice can only be made
    with its triggers out of the way, for this test's own transaction. SQLite: drop them
    and create them again afterwards. PostgreSQL: the test run is the tables' owner (never
    the application's role, which may not), so it disables the invoice tables' triggers
    and enables them again, within the test's transaction (DDL is transactional there)."""
    migration = import_module("contracts.migrations.0006_invoice_immutable")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in migration.SQLITE_DOWN:
                cursor.execute(statement)
        else:
            _alter_triggers(cursor, "DISABLE")
        try:
            yield
        finally:
            if connection.vendor == "sqlite":
                for statement in migration.sqlite_sql(Invoice):
                    cursor.execute(statement)
            else:
                _alter_triggers(cursor, "ENABLE")


def _break(number: str, **changes) -> None:
    with invoice_guard_lifted():
        Invoice.objects.filter(number=number).update(**changes)


@pytest.fixture
def books(customer, account_manager):
    """A grant of 300.00, 120.00 of it applied to an invoice of 120.00, one more invoice."""
    customer.account_managers.add(account_manager)
    contract = make_contract(customer)
    grant(contract, account_manager, "300.00")
    InvoiceFactory(contract=contract, number="INV-A", amount=D("120.00"))
    credits_apply(customer=customer)
    InvoiceFactory(contract=contract, number="INV-B")
    return customer


def _check() -> str:
    out = StringIO()
    call_command("check_ledger", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_consistent_books_pass(books):
    assert Balance.objects.get(customer=books).amount == D("180.00")
    assert "Ledger OK: 1 balance(s), 2 invoice(s) checked." in _check()


def test_an_empty_database_passes(db):
    assert "Ledger OK" in _check()


def test_a_balance_that_disagrees_with_its_entries_fails_naming_the_customer(books):
    # Ledger rows cannot be touched, so the fixture breaks the stored balance instead.
    Balance.objects.filter(customer=books).update(amount=D("181.00"))
    with pytest.raises(CommandError) as failed:
        _check()
    message = str(failed.value)
    assert f"customer {books.name!r}" in message
    assert "balance 181.00 USD != sum of ledger entries 180.00 USD" in message


def test_an_invoice_total_that_disagrees_with_its_lines_fails_naming_the_invoice(books):
    _break("INV-B", total=D("999.00"))
    with pytest.raises(CommandError, match=r"invoice INV-B: total 999.00 USD != sum of its lines"):
        _check()


def test_an_invoice_billed_to_another_customer_than_its_contract_s_fails_naming_both(books):
    stranger = CustomerFactory(name="Stranger Ltd")
    _break("INV-B", customer=stranger)
    with pytest.raises(CommandError) as failed:
        _check()
    message = str(failed.value)
    assert "invoice INV-B: customer 'Stranger Ltd' is not the customer of its contract" in message
    assert f"C-TEST-1 ({books.name!r})" in message


def test_the_database_itself_refuses_the_broken_invoices_these_checks_look_for(books):
    # Without the triggers lifted: what check_ledger looks for cannot be written today.
    for changes, refusal in (
        ({"total": D("999.00")}, "an invoice total must equal the sum of its lines"),
        ({"customer": CustomerFactory()}, "an issued invoice cannot change"),
    ):
        with pytest.raises(IntegrityError, match=refusal), transaction.atomic():
            Invoice.objects.filter(number="INV-B").update(**changes)
    assert "Ledger OK" in _check()


def test_the_first_mismatch_is_named_and_every_one_is_listed(books):
    _break("INV-A", total=D("5.00"))
    _break("INV-B", total=D("5.00"))
    stderr = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("check_ledger", stdout=StringIO(), stderr=stderr)
    assert "invoice INV-A" in str(failed.value) and "(and 1 more)" in str(failed.value)
    assert stderr.getvalue().count("MISMATCH") == 2


def test_entries_without_a_balance_row_and_a_balance_without_entries_fail(books):
    stranger = CustomerFactory(name="Aardvark Ltd")  # sorts first
    Balance.objects.filter(customer=books).delete()
    Balance.objects.create(customer=stranger, currency="USD", amount=D("1.00"))
    stderr = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("check_ledger", stdout=StringIO(), stderr=stderr)
    assert "'Aardvark Ltd'" in str(failed.value)
    assert "balance 1.00 USD != sum of ledger entries 0.00 USD" in str(failed.value)
    assert "balance 0.00 USD != sum of ledger entries 180.00 USD" in stderr.getvalue()


def test_the_command_exits_non_zero(books, capsys):
    Balance.objects.filter(customer=books).update(amount=D("0.00"))
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "check_ledger"]).execute()
    assert exited.value.code == 1
    assert "Ledger check failed" in capsys.readouterr().err
