"""Ledger rows cannot be changed or deleted, whatever the code path, and a correction is
one reversing entry. The database's triggers refuse it (PostgreSQL and SQLite alike)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, Sum
from django.test import RequestFactory

from contracts.models import Invoice
from credits.models import Balance, Credit, LedgerEntry
from credits.selectors import customer_balance
from credits.services import credits_apply, ledger_reverse
from tests.support.credit_cases import NOW
from tests.support.factories import CustomerUserFactory, InvoiceFactory, grant, make_contract

D = Decimal
TABLE = LedgerEntry._meta.db_table


def _change_and_save(entry: LedgerEntry) -> None:
    entry.amount = D("999.00")
    entry.save()


def _queryset_update(entry: LedgerEntry) -> None:
    LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("999.00"))


def _instance_delete(entry: LedgerEntry) -> None:
    entry.delete()


def _queryset_delete(entry: LedgerEntry) -> None:
    LedgerEntry.objects.filter(pk=entry.pk).delete()


def _raw_update(entry: LedgerEntry) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET amount = 999 WHERE id = %s", [entry.pk])


def _raw_delete(entry: LedgerEntry) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [entry.pk])


ATTEMPTS = [
    _change_and_save,
    _queryset_update,
    _instance_delete,
    _queryset_delete,
    _raw_update,
    _raw_delete,
]


def _snapshot(pk: int) -> dict:
    return LedgerEntry.objects.filter(pk=pk).values().get()


@pytest.fixture
def entry(customer, account_manager) -> LedgerEntry:
    customer.account_managers.add(account_manager)
    credit = grant(make_contract(customer), account_manager, "200.00")
    return credit.entries.get()


def _assert_refused(attempt, entry: LedgerEntry) -> None:
    before = _snapshot(entry.pk)
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic():
            attempt(entry)
    assert _snapshot(entry.pk) == before
    assert customer_balance(entry.customer, "USD") == D("200.00")


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=lambda f: f.__name__.strip("_"))
def test_a_ledger_row_cannot_be_changed_or_deleted(entry, attempt):
    """Runs on the database of this test run (SQLite by default)."""
    _assert_refused(attempt, entry)


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=lambda f: f.__name__.strip("_"))
def test_on_postgresql_a_ledger_row_cannot_be_changed_or_deleted(postgres, entry, attempt):
    assert connection.vendor == "postgresql"
    _assert_refused(attempt, entry)


def test_a_reversed_entry_is_protected_by_its_reversal_too(entry, account_manager):
    ledger_reverse(entry=entry, actor=account_manager, reason="Granted twice")
    with pytest.raises(ProtectedError):
        with transaction.atomic():
            entry.delete()
    assert LedgerEntry.objects.count() == 2


def test_a_reversal_pairs_with_its_entry_to_zero_and_a_second_is_refused(entry, account_manager):
    reversal = ledger_reverse(entry=entry, actor=account_manager, reason="Granted in error")
    assert (reversal.kind, reversal.amount, reversal.reverses) == ("reversal", D("-200.00"), entry)
    assert reversal.created_by == account_manager
    pair = LedgerEntry.objects.filter(pk__in=[entry.pk, reversal.pk]).aggregate(s=Sum("amount"))
    assert pair["s"] == D("0.00")
    assert customer_balance(entry.customer, "USD") == D("0.00")
    assert entry.credit.events.last().action == "reversed"
    with pytest.raises(ValidationError) as again:
        ledger_reverse(entry=entry, actor=account_manager, reason="again")
    assert again.value.message_dict == {"entry": [f"Ledger entry #{entry.pk} is already reversed."]}
    with pytest.raises(ValidationError, match="cannot itself be reversed"):
        ledger_reverse(entry=reversal, actor=account_manager, reason="undo the undo")
    assert LedgerEntry.objects.count() == 2


def test_a_reversal_that_would_take_credit_back_from_a_paid_invoice_is_refused(
    entry, account_manager
):
    invoice = InvoiceFactory(contract=entry.credit.contract)
    (note,) = credits_apply(customer=entry.customer)
    Invoice.objects.filter(pk=invoice.pk).update(paid_at=NOW)
    with pytest.raises(ValidationError, match="paid"):
        ledger_reverse(entry=entry, actor=account_manager, reason="too late")
    with pytest.raises(ValidationError, match="paid"):
        ledger_reverse(entry=note.entry, actor=account_manager, reason="undo")
    assert LedgerEntry.objects.count() == 2
    assert Balance.objects.get().amount == D("0.00")


def test_a_reversal_needs_a_reason_and_a_person_with_authority(entry, customer):
    with pytest.raises(ValidationError) as blank:
        ledger_reverse(entry=entry, actor=customer.account_managers.get(), reason="")
    assert "reason" in blank.value.message_dict
    with pytest.raises(PermissionDenied):
        ledger_reverse(entry=entry, actor=CustomerUserFactory(customer=customer), reason="mine")
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize("model", [LedgerEntry, Balance, Credit])
def test_the_admin_cannot_add_change_or_delete_credits_or_ledger_rows(admin_user, model):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)
