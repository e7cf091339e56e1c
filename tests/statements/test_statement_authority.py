"""An account manager acts on statements only for the customers they manage; an
administrator for every customer. Refused in the services, so the API and the pages
answer the same: the statement stays as issued, nothing is e-mailed, a pending credit
stays pending."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from credits.models import Credit
from outbox.models import OutboxMessage
from statements.models import Statement, StatementRun
from statements.services import statement_generate, statement_reissue, statements_plan
from tests.support.api_helpers import API, client_for
from tests.support.factories import StaffFactory

pytestmark = pytest.mark.django_db

JUNE = date(2026, 6, 1)
URL = f"{API}statements/"


@pytest.fixture
def stranger(other_customer):
    """An account manager, of another customer only."""
    manager = StaffFactory(role="account_manager")
    other_customer.account_managers.add(manager)
    return manager


def _unchanged(statement: Statement) -> None:
    statement.refresh_from_db()
    assert statement.status == Statement.Status.ISSUED
    assert Statement.objects.filter(contract=statement.contract).count() == 1
    assert not OutboxMessage.objects.exists()


def test_another_customers_account_manager_cannot_reissue_through_the_api(
    stranger, statement, celery_eager
):
    pending = list(Credit.objects.filter(contract=statement.contract).values_list("status"))
    response = client_for(stranger).post(
        f"{URL}{statement.pk}/reissue/",
        {"reason": "Because I can", "force": True},
        format="json",
    )

    assert response.status_code == 403
    assert "account manager or an administrator" in response.json()["detail"]
    _unchanged(statement)
    assert list(Credit.objects.filter(contract=statement.contract).values_list("status")) == (
        pending
    )


def test_another_customers_account_manager_cannot_draft_or_generate(
    stranger, statement, june_contract
):
    client = client_for(stranger)

    draft = client.post(f"{URL}{statement.pk}/draft/")
    generate = client.post(
        f"{URL}generate/", {"month": "2026-07", "contract": june_contract.pk}, format="json"
    )

    assert (draft.status_code, generate.status_code) == (403, 403)
    _unchanged(statement)
    assert not StatementRun.objects.exists()


def test_a_months_run_by_an_account_manager_covers_only_their_customers(
    stranger, june_contract, foreign_contract, account_manager
):
    run = statements_plan(
        month=JUNE, trigger=StatementRun.Trigger.API, actor=stranger, dispatch=False
    )
    assert [item.contract_id for item in run.items.all()] == [foreign_contract.pk]

    mine = statements_plan(
        month=JUNE, trigger=StatementRun.Trigger.API, actor=account_manager, dispatch=False
    )
    assert [item.contract_id for item in mine.items.all()] == [june_contract.pk]


def test_the_services_refuse_a_stranger_and_allow_the_manager_and_an_administrator(
    stranger, account_manager, admin_user, june_contract
):
    with pytest.raises(PermissionDenied):
        statement_generate(contract=june_contract, month=JUNE, actor=stranger)
    assert not Statement.objects.exists()

    issued = statement_generate(contract=june_contract, month=JUNE, actor=account_manager)
    assert issued.status == Statement.Status.ISSUED
    with pytest.raises(PermissionDenied):
        statement_reissue(contract=june_contract, month=JUNE, actor=stranger, force=True)
    again = statement_reissue(
        contract=june_contract, month=JUNE, actor=admin_user, force=True, reason="Checked"
    )
    assert again.revision == 2


def test_agents_and_operations_generate_nothing(agent, operations, june_contract):
    for person in (agent, operations):
        with pytest.raises(PermissionDenied):
            statements_plan(month=JUNE, trigger=StatementRun.Trigger.API, actor=person)
    assert not StatementRun.objects.exists()


def test_another_customers_account_manager_cannot_retry_a_run(
    stranger, account_manager, june_contract, monkeypatch, celery_eager
):
    from statements.services import runs as runs_module
    from statements.services import statement_run_retry

    monkeypatch.setattr(runs_module, "statement_generate", _broken)
    run = statements_plan(month=JUNE, trigger=StatementRun.Trigger.API, actor=account_manager)
    for item in run.items.all():
        runs_module.statement_run_item_process(item_id=item.pk)
    monkeypatch.undo()

    response = client_for(stranger).post(f"{API}statement-runs/{run.pk}/retry/")
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        statement_run_retry(run=run, actor=stranger)
    assert StatementRun.objects.count() == 1
    assert statement_run_retry(run=run, actor=account_manager).planned == 1


def _broken(**kwargs):
    raise RuntimeError("PDF storage is full")
