"""The staff statement pages' actions through the API: regenerate a draft, re-issue an
issued month, read the runs and retry a run's failures. Account managers and
administrators act; operations read runs; agents and customers are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from statements.models import Statement, StatementRun
from statements.services import runs as runs_module
from statements.services import statements_plan
from tests.support.api_helpers import API, client_for
from tests.support.factories import CustomerUserFactory

pytestmark = pytest.mark.django_db

JUNE = date(2026, 6, 1)
JULY = date(2026, 7, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
URL = f"{API}statements/"
RUNS = f"{API}statement-runs/"


@pytest.fixture
def failed_run(
    june_contract, account_manager, celery_eager, monkeypatch, django_capture_on_commit_callbacks
):
    """A June run whose one contract failed."""

    def broken(**kw):
        raise RuntimeError("PDF storage is full")

    monkeypatch.setattr(runs_module, "statement_generate", broken)
    with django_capture_on_commit_callbacks(execute=True):
        run = statements_plan(
            month=JUNE,
            trigger=StatementRun.Trigger.API,
            contract_ids=[june_contract.pk],
            actor=account_manager,
        )
    monkeypatch.undo()
    run.refresh_from_db()
    assert run.failed == 1
    return run


def test_an_account_manager_regenerates_a_draft(account_manager, draft):
    response = client_for(account_manager).post(f"{URL}{draft.pk}/draft/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["month"]) == ("draft", "2026-07")


def test_an_account_manager_reissues_with_a_reason(account_manager, statement):
    response = client_for(account_manager).post(
        f"{URL}{statement.pk}/reissue/", {"reason": "Outage re-categorised", "force": True}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] != statement.pk and body["status"] == "issued"
    statement.refresh_from_db()
    assert statement.status == Statement.Status.SUPERSEDED


def test_a_reissue_without_a_reason_is_a_field_error(admin_user, statement):
    response = client_for(admin_user).post(f"{URL}{statement.pk}/reissue/", {}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()
    assert Statement.objects.count() == 1


@pytest.mark.parametrize("role", ["agent", "operations", "customer"])
def test_other_roles_may_not_reissue_or_regenerate(role, request, statement):
    user = (
        CustomerUserFactory(customer=statement.contract.customer, customer_role="admin")
        if role == "customer"
        else request.getfixturevalue({"agent": "agent", "operations": "operations"}[role])
    )
    client = client_for(user)

    reissue = client.post(f"{URL}{statement.pk}/reissue/", {"reason": "x", "force": True})
    draft = client.post(f"{URL}{statement.pk}/draft/")

    assert (reissue.status_code, draft.status_code) == (403, 403)
    assert Statement.objects.count() == 1


def test_runs_list_their_failures_for_the_pages_readers(operations, failed_run):
    response = client_for(operations).get(RUNS)

    assert response.status_code == 200
    [run] = response.json()["results"]
    assert (run["id"], run["month"], run["failed"]) == (failed_run.pk, "2026-06", 1)
    assert run["failures"][0]["error"] == "RuntimeError: PDF storage is full"


@pytest.mark.parametrize("role", ["agent", "customer"])
def test_agents_and_customers_do_not_read_runs(role, agent, customer_user, failed_run):
    client = client_for(agent if role == "agent" else customer_user)

    assert client.get(RUNS).status_code == 403
    assert client.get(f"{RUNS}{failed_run.pk}/").status_code == 403
    assert client.post(f"{RUNS}{failed_run.pk}/retry/").status_code == 403


def test_an_account_manager_retries_a_failed_run(
    account_manager, operations, failed_run, django_capture_on_commit_callbacks
):
    assert client_for(operations).post(f"{RUNS}{failed_run.pk}/retry/").status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(account_manager).post(f"{RUNS}{failed_run.pk}/retry/")

    assert response.status_code == 200, response.content
    retry = response.json()["run"]
    assert (retry["trigger"], retry["retry_of"], retry["planned"]) == ("retry", failed_run.pk, 1)
    again = client_for(account_manager).post(f"{RUNS}{failed_run.pk}/retry/")
    assert again.json() == {"run": None}


def test_an_unknown_run_is_a_404(account_manager):
    assert client_for(account_manager).post(f"{RUNS}999999/retry/").status_code == 404
