"""Statement pages through the Django test client: the customer's own statements (list,
summary, PDF; another organisation's or a draft is a 404), and the staff back office
(filters, drafts, re-issue, generating a month, runs and retrying their failures)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from statements.models import Statement, StatementRun, StatementRunItem
from statements.services import runs as runs_module
from statements.services import (
    statement_run_item_process,
    statements_plan,
)
from tests.support.page_helpers import h1, nav_labels

pytestmark = pytest.mark.django_db

JUNE = date(2026, 6, 1)
JULY = date(2026, 7, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


def _get(client, user, name, *args):
    client.force_login(user)
    return client.get(reverse(name, args=args))


# ---------------------------------------------------------------- customer


def test_customer_lists_their_statements_newest_first_without_drafts(
    client, customer_user, statement, draft, foreign_statement
):
    response = _get(client, customer_user, "portal-statements")
    html = response.content.decode()
    assert response.status_code == 200 and h1(response) == "Statements"
    assert statement.number in html
    assert draft.number not in html and foreign_statement.number not in html
    assert "Statements" in nav_labels(response)


def test_customer_sees_an_empty_state(client, customer_user):
    html = _get(client, customer_user, "portal-statements").content.decode()
    assert "No statements yet." in html


def test_customer_opens_the_summary_with_availability_outages_and_credit(
    client, customer_user, statement
):
    response = _get(client, customer_user, "portal-statement", statement.pk)
    html = response.content.decode()
    assert response.status_code == 200
    assert h1(response) == "June 2026 · C-JUNE-1"
    for text in ("Heretto CCMS", "Cloud Publishing", "99.201", "200.00", "Upstream DNS provider"):
        assert text in html
    assert "Excluded" in html and "Counted" in html
    assert reverse("portal-statement-pdf", args=[statement.pk]) in html


def test_customer_downloads_the_pdf_as_an_attachment(client, customer_user, statement):
    response = _get(client, customer_user, "portal-statement-pdf", statement.pk)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{statement.number}.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("name", ["portal-statement", "portal-statement-pdf"], ids=["page", "pdf"])
def test_another_customers_statement_and_a_draft_are_404(
    client, customer_user, foreign_statement, draft, name
):
    assert _get(client, customer_user, name, foreign_statement.pk).status_code == 404
    assert _get(client, customer_user, name, draft.pk).status_code == 404


@pytest.mark.parametrize("name", ["staff-statements", "staff-statement-runs"], ids=["list", "runs"])
def test_customers_and_agents_may_not_open_staff_pages(client, customer_user, agent, name):
    assert _get(client, customer_user, name).status_code == 403
    assert _get(client, agent, name).status_code == 403


def test_customers_may_not_generate(client, customer_user):
    client.force_login(customer_user)
    response = client.post(reverse("staff-statements-generate"), {"month": "2026-06"})
    assert response.status_code == 403
    assert not StatementRun.objects.exists()


# ---------------------------------------------------------------- staff


def test_staff_list_shows_drafts_and_filters(
    client, operations, statement, draft, foreign_statement
):
    client.force_login(operations)
    html = client.get(reverse("staff-statements")).content.decode()
    assert all(s.number in html for s in (statement, draft, foreign_statement))
    assert "Generate statements" not in html  # operations read only
    html = client.get(reverse("staff-statements"), {"status": "draft"}).content.decode()
    assert draft.number in html and statement.number not in html
    customer = foreign_statement.contract.customer_id
    html = client.get(
        reverse("staff-statements"), {"month": "2026-06", "customer": customer}
    ).content.decode()
    assert foreign_statement.number in html and statement.number not in html
    html = client.get(reverse("staff-statements"), {"month": "June"}).content.decode()
    assert "is not a month" in html


def test_operations_read_but_may_not_act(client, operations, statement):
    response = _get(client, operations, "staff-statement", statement.pk)
    assert response.status_code == 200 and "Re-issue" not in response.content.decode()
    assert _get(client, operations, "staff-statement-pdf", statement.pk).content[:5] == b"%PDF-"
    response = client.post(reverse("staff-statement-reissue", args=[statement.pk]), {"reason": "x"})
    assert response.status_code == 403


def test_account_manager_regenerates_a_draft(client, account_manager, draft):
    client.force_login(account_manager)
    response = client.post(reverse("staff-statement-draft", args=[draft.pk]))
    new = Statement.objects.get(contract=draft.contract, month=JULY)
    assert response.url == reverse("staff-statement", args=[new.pk])
    assert new.status == "draft" and new.created_by == account_manager
    assert not Statement.objects.filter(pk=draft.pk).exists()  # a draft is replaced


def test_account_manager_previews_a_draft_from_the_list(client, account_manager, june_contract):
    client.force_login(account_manager)
    response = client.post(
        reverse("staff-statements-generate"),
        {"month": "2026-07", "contract": june_contract.pk, "draft": ""},
    )
    new = Statement.objects.get(contract=june_contract, month=JULY)
    assert new.status == "draft" and response.url == reverse("staff-statement", args=[new.pk])


def test_reissue_needs_a_reason_and_issues_revision_two_when_forced(
    client, account_manager, statement
):
    client.force_login(account_manager)
    url = reverse("staff-statement-reissue", args=[statement.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    response = client.post(url, {"reason": "Outage re-categorised"})
    assert response.url == reverse("staff-statement", args=[statement.pk])  # unchanged
    response = client.post(url, {"reason": "Outage re-categorised", "force": "on"})
    new = Statement.objects.get(contract=statement.contract, month=JUNE, revision=2)
    assert response.url == reverse("staff-statement", args=[new.pk])
    assert new.reason == "Outage re-categorised"
    statement.refresh_from_db()
    assert statement.status == "superseded"


def test_account_manager_generates_a_month(
    client,
    account_manager,
    june_contract,
    foreign_contract,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    client.force_login(account_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff-statements-generate"),
            {"month": "2026-06", "contract": june_contract.pk, "generate": ""},
        )
    assert response.url == reverse("staff-statement-runs")
    run = StatementRun.objects.get()
    assert (run.trigger, run.planned, run.done, run.created_by) == (
        "command",
        1,
        1,
        account_manager,
    )
    assert Statement.objects.get(month=JUNE).contract == june_contract


def test_generating_a_future_month_is_refused(client, account_manager, june_contract):
    client.force_login(account_manager)
    response = client.post(reverse("staff-statements-generate"), {"month": "2999-01"}, follow=True)
    assert "January 2999 is in the future." in response.content.decode()
    assert not StatementRun.objects.exists()


@pytest.fixture
def failed_run(june_contract, monkeypatch) -> StatementRun:
    def broken(**kwargs):
        raise RuntimeError("PDF storage is full")

    monkeypatch.setattr(runs_module, "statement_generate", broken)
    run = statements_plan(month=JUNE, trigger="command", dispatch=False)
    for item in run.items.all():
        statement_run_item_process(item_id=item.pk)
    monkeypatch.undo()
    run.refresh_from_db()
    return run


def test_runs_page_lists_counts_and_failures_and_retry_succeeds(
    client, account_manager, failed_run, celery_eager, django_capture_on_commit_callbacks
):
    response = _get(client, account_manager, "staff-statement-runs")
    html = response.content.decode()
    assert h1(response) == "Statement runs"
    assert "RuntimeError: PDF storage is full" in html and "Retry 1 failed" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff-statement-run-retry", args=[failed_run.pk]))
    assert response.url == reverse("staff-statement-runs")
    retry = StatementRun.objects.get(retry_of=failed_run)
    retry.refresh_from_db()
    assert (retry.trigger, retry.planned, retry.done, retry.failed) == ("retry", 1, 1, 0)
    assert StatementRunItem.objects.filter(run=retry, status="done").count() == 1
    assert Statement.objects.filter(month=JUNE, status="issued").count() == 1


def test_retry_is_for_account_managers(client, operations, failed_run):
    client.force_login(operations)
    assert (
        client.post(reverse("staff-statement-run-retry", args=[failed_run.pk])).status_code == 403
    )
    assert _get(client, operations, "staff-statement-runs").status_code == 200
