"""An issued statement is never edited or deleted: the database's triggers refuse it on
PostgreSQL and SQLite alike, whatever the code path, and let through only the document's
own life cycle (superseded once, PDF and e-mail time set once). Drafts stay editable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from statements.models import Statement, StatementCredit
from statements.services import statement_generate

JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
TABLE = Statement._meta.db_table


@pytest.fixture
def issued(june_contract) -> Statement:
    return statement_generate(contract=june_contract, month=JUNE, now=NOW)


def _save_changed(s: Statement) -> None:
    s.snapshot = {**s.snapshot, "credit_total": "0.00"}
    s.save()


def _update_amount(s: Statement) -> None:
    Statement.objects.filter(pk=s.pk).update(credit_amount=0)


def _update_number(s: Statement) -> None:
    Statement.objects.filter(pk=s.pk).update(number="ST-FORGED")


def _back_to_draft(s: Statement) -> None:
    Statement.objects.filter(pk=s.pk).update(status="draft", issued_at=None)


def _raw_update(s: Statement) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET revision = 7 WHERE id = %s", [s.pk])


def _delete(s: Statement) -> None:
    Statement.objects.filter(pk=s.pk).delete()


def _raw_delete(s: Statement) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [s.pk])


def _unlink_credit(s: Statement) -> None:
    StatementCredit.objects.filter(statement=s).delete()


ATTEMPTS = [
    _save_changed,
    _update_amount,
    _update_number,
    _back_to_draft,
    _raw_update,
    _delete,
    _raw_delete,
    _unlink_credit,
]


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=lambda f: f.__name__)
def test_an_issued_statement_cannot_be_changed_or_deleted(issued, attempt):
    before = Statement.objects.filter(pk=issued.pk).values().get()
    # (The ORM's delete stops even earlier: the statement's credit links protect it.)
    with pytest.raises(IntegrityError, match="cannot be changed|append-only|protected"):
        with transaction.atomic():
            attempt(issued)
    assert Statement.objects.filter(pk=issued.pk).values().get() == before
    assert StatementCredit.objects.filter(statement=issued).count() == 1


@pytest.mark.parametrize(
    "attempt", [_update_amount, _raw_delete, _raw_update], ids=lambda f: f.__name__
)
def test_postgresql_refuses_changes_to_an_issued_statement(postgres, issued, attempt):
    with pytest.raises(IntegrityError, match="cannot be changed"):
        with transaction.atomic():
            attempt(issued)


def test_the_life_cycle_transitions_are_allowed_once(issued):
    rows = Statement.objects.filter(pk=issued.pk)
    rows.update(pdf="statements/a.pdf", pdf_sha256="a" * 64, pdf_rendered_at=NOW)
    rows.update(emailed_at=NOW)
    issued.refresh_from_db()
    issued.save()  # saving every column unchanged is not a change
    for change in (
        {"pdf": "statements/b.pdf"},
        {"pdf_sha256": "b" * 64},
        {"emailed_at": NOW + timedelta(days=1)},
        {"emailed_at": None},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            rows.update(**change)
    rows.update(status="superseded")
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(status="issued")  # superseded is final


def test_a_statement_is_protected_from_cascades(issued):
    with pytest.raises((ProtectedError, IntegrityError)), transaction.atomic():
        issued.contract.delete()


def test_a_draft_may_be_changed_and_deleted(june_contract):
    draft = statement_generate(contract=june_contract, month=date(2026, 7, 1), now=NOW, draft=True)
    Statement.objects.filter(pk=draft.pk).update(reason="checked by finance")
    Statement.objects.filter(pk=draft.pk).delete()
    assert not Statement.objects.exists()
