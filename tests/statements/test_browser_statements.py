"""Statements in headless Chromium: a customer lists their statements, opens June's
summary and finds the PDF link; an account manager sees a run with a failure and
retries it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from statements.services import runs as runs_module
from statements.services import statement_generate, statement_run_item_process, statements_plan
from tests.support.accessibility import assert_accessible
from tests.support.browser import login, screenshot
from tests.support.factories import CustomerUserFactory

pytestmark = pytest.mark.browser

JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


def test_customer_lists_and_opens_their_statement(
    page, live_server, june_contract, statements_emptied_after
):
    from playwright.sync_api import expect

    statement = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    person = CustomerUserFactory(customer=june_contract.customer, first_name="Nina")
    login(page, live_server, person)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statements").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statements")
    row = page.get_by_role("row").filter(has_text=statement.number)
    expect(row).to_contain_text("200.00")
    expect(row).to_contain_text("Issued")
    assert_accessible(page, "customer statement list")
    screenshot(page, "statements-customer-list")

    row.get_by_role("link", name="June 2026").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("June 2026 · C-JUNE-1")
    expect(page.get_by_test_id("statement-credit")).to_have_text("200.00 USD")
    expect(page.get_by_role("link", name="Download PDF")).to_have_attribute(
        "href", f"/portal/statements/{statement.pk}/pdf/"
    )
    assert_accessible(page, "customer statement page")
    screenshot(page, "statements-customer-detail")
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page, "customer statement page, phone width")
    screenshot(page, "statements-customer-detail-mobile")
    # A table wider than the phone scrolls from the keyboard: it takes focus.
    table = page.get_by_role("group", name="Outages in the month")
    table.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 0", arg=table.element_handle())
    screenshot(page, "statements-customer-detail-mobile-scrolled", full_page=False)


def test_account_manager_retries_a_failed_run(
    page, live_server, june_contract, account_manager, monkeypatch, statements_emptied_after
):
    from playwright.sync_api import expect

    def broken(**kwargs):
        raise RuntimeError("PDF storage is full")

    monkeypatch.setattr(runs_module, "statement_generate", broken)
    run = statements_plan(month=JUNE, trigger="command", dispatch=False)
    for item in run.items.all():
        statement_run_item_process(item_id=item.pk)
    monkeypatch.undo()

    account_manager.first_name, account_manager.last_name = "Maria", "Manager"
    account_manager.save()
    login(page, live_server, account_manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statements").click()
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statement runs")
    card = page.locator("article.run-card")
    expect(card).to_contain_text("RuntimeError: PDF storage is full")
    assert_accessible(page, "statement runs")
    screenshot(page, "statements-runs")
    assert card.get_by_role("button", name="Retry 1 failed").is_visible()


def test_account_manager_finds_a_statement_in_the_back_office(
    page, live_server, june_contract, account_manager, statements_emptied_after
):
    from playwright.sync_api import expect

    statement = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    login(page, live_server, account_manager)
    page.goto(f"{live_server.url}/backoffice/statements/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statements")
    row = page.get_by_role("row").filter(has_text=statement.number)
    expect(row).to_contain_text(june_contract.customer.name)
    assert_accessible(page, "staff statement list")
    screenshot(page, "statements-staff-list")

    row.get_by_role("link", name=statement.number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(statement.number)
    expect(page.get_by_role("button", name="Re-issue")).to_be_visible()
    assert_accessible(page, "staff statement page")
    screenshot(page, "statements-staff-detail")


def test_customer_sees_a_rejected_credit_with_its_reason_and_the_pdf_says_so(
    page, live_server, june_contract, account_manager, statements_emptied_after
):
    from playwright.sync_api import expect

    from credits.services import credit_reject
    from statements.selectors import statement_credits
    from statements.services import statement_render

    statement = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    [credit] = statement_credits(statement)
    credit_reject(credit=credit, actor=account_manager, reason="Planned with the customer")
    statement_render(statement_id=statement.pk, now=NOW)
    person = CustomerUserFactory(customer=june_contract.customer, first_name="Nina")
    login(page, live_server, person)
    page.goto(f"{live_server.url}/portal/statements/")
    row = page.get_by_role("row").filter(has_text=statement.number)
    expect(row.get_by_test_id("list-credit")).to_have_text("0.00 USD")
    expect(row).to_contain_text("Rejected (200.00 USD not granted)")
    screenshot(page, "statements-customer-list-rejected")
    row.get_by_role("link", name="June 2026").click()
    expect(page.get_by_test_id("statement-credit")).to_have_text("0.00 USD")
    expect(page.get_by_test_id("credit-state")).to_have_text("Rejected")
    expect(page.get_by_test_id("credit-sentence")).to_have_text(
        "Rejected: Planned with the customer"
    )
    assert_accessible(page, "customer statement page, rejected credit")
    screenshot(page, "statements-customer-detail-rejected")
