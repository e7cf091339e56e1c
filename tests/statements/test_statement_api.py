"""The statements REST API: statements/ (tenancy, no drafts for customers, filters, the
normative fields), statements/{id}/pdf/, and statements/generate/ (staff only, month
validation, the run it plans)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from statements.models import Statement, StatementRun
from tests.support.api_helpers import API, client_for

pytestmark = pytest.mark.django_db

JUNE = date(2026, 6, 1)
JULY = date(2026, 7, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
URL = f"{API}statements/"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_customer_lists_only_their_own_statements_and_no_drafts(
    customer_user, statement, foreign_statement, draft
):
    assert _ids(client_for(customer_user).get(URL)) == [statement.pk]


def test_staff_list_every_statement_and_filter(operations, statement, foreign_statement, draft):
    client = client_for(operations)
    assert set(_ids(client.get(URL))) == {statement.pk, foreign_statement.pk, draft.pk}
    assert _ids(client.get(URL, {"status": "draft"})) == [draft.pk]
    assert _ids(
        client.get(URL, {"month": "2026-06", "contract": foreign_statement.contract_id})
    ) == [foreign_statement.pk]
    customer = statement.contract.customer_id
    assert set(_ids(client.get(URL, {"customer": customer}))) == {statement.pk, draft.pk}
    bad = client.get(URL, {"month": "June"})
    assert bad.status_code == 400 and "month" in bad.json()


def test_a_statement_has_the_normative_fields(customer_user, statement):
    data = client_for(customer_user).get(f"{URL}{statement.pk}/").json()
    assert (data["contract"], data["month"], data["status"]) == (
        statement.contract_id,
        "2026-06",
        "issued",
    )
    assert (data["credit_amount"], data["currency"]) == ("200.00", "USD")
    ccms = next(s for s in data["services"] if s["name"] == "Heretto CCMS")
    assert ccms["availability_pct"].startswith("99.201")
    assert ccms["downtime_minutes"] == "345" and ccms["denominator_minutes"] == "43200"
    assert [o["minutes"] for o in ccms["counted"]] == ["300", "45"] and ccms["excluded"] == []
    publishing = next(s for s in data["services"] if s["name"] == "Cloud Publishing")
    assert [o["title"] for o in publishing["excluded"]] == ["Database upgrade"]
    assert publishing["excluded"][0]["reason"]
    [credit] = data["working"]
    assert credit["service"] == "Heretto CCMS" and credit["amount"] == "200.00"
    assert credit["working"] and data["pdf"].endswith(f"/api/v1/statements/{statement.pk}/pdf/")


def test_pdf_downloads_as_an_attachment(customer_user, statement):
    response = client_for(customer_user).get(f"{URL}{statement.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{statement.number}.pdf"'
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("suffix", ["", "pdf/"], ids=["object", "pdf"])
def test_another_customers_statement_or_a_draft_is_404(
    customer_user, foreign_statement, draft, suffix
):
    client = client_for(customer_user)
    assert client.get(f"{URL}{foreign_statement.pk}/{suffix}").status_code == 404
    assert client.get(f"{URL}{draft.pk}/{suffix}").status_code == 404


@pytest.mark.parametrize("role", ["customer_user", "operations", "agent"])
def test_only_account_managers_and_admins_generate(request, role, june_contract):
    user = request.getfixturevalue(role)
    response = client_for(user).post(f"{URL}generate/", {"month": "2026-06"}, format="json")
    assert response.status_code == 403
    assert not StatementRun.objects.exists()


@pytest.mark.parametrize(
    "month, message",
    [
        (None, "required"),
        ("2026-13", "is not 01–12"),
        ("June", "is not a month"),
        ("2999-01", "is in the future"),
    ],
)
def test_generate_validates_the_month(account_manager, june_contract, month, message):
    data = {} if month is None else {"month": month}
    response = client_for(account_manager).post(f"{URL}generate/", data, format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()["month"])
    assert not StatementRun.objects.exists()


def test_generate_refuses_an_unknown_contract(admin_user, june_contract):
    response = client_for(admin_user).post(
        f"{URL}generate/", {"month": "2026-06", "contract": 999999}, format="json"
    )
    assert response.status_code == 400 and "contract" in response.json()


def test_generate_plans_a_run_with_the_scheduled_service(
    account_manager,
    june_contract,
    foreign_contract,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    client = client_for(account_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{URL}generate/", {"month": "2026-06", "contract": june_contract.pk}, format="json"
        )
    assert response.status_code == 200, response.content
    run = StatementRun.objects.get()
    body = response.json()
    assert (body["run"], body["month"], body["planned"]) == (run.pk, "2026-06", 1)
    assert (run.trigger, run.created_by) == ("api", account_manager)
    run.refresh_from_db()
    assert (run.done, run.failed) == (1, 0)
    assert list(Statement.objects.values_list("contract", flat=True)) == [june_contract.pk]
    # Again: nothing is owed any more.
    again = client.post(
        f"{URL}generate/", {"month": "2026-06", "contract": june_contract.pk}, format="json"
    )
    assert again.json() == {"run": None, "month": "2026-06", "planned": 0, "done": 0, "failed": 0}
