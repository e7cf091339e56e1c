"""The SLA attainment report and the SLA page in headless Chromium: the customer's and the
account manager's report (chart, table, downloads), the customer's SLA terms; each
checked with axe-core and saved as a screenshot (tests/artifacts/)."""

from __future__ import annotations

import pytest

from statements.services import statement_generate
from tests.support.accessibility import assert_accessible
from tests.support.attainment import JUNE, NOW, et, june_tickets, make_ticket
from tests.support.browser import login, screenshot
from tests.support.factories import CustomerFactory, CustomerUserFactory, catalog_contract

pytestmark = pytest.mark.browser

RANGE = "?start=2026-04&end=2026-07"


@pytest.fixture
def report_data(june_contract, account_manager, statements_emptied_after):
    customer = june_contract.customer
    customer.name = "Northwind Traders"
    customer.save()
    june_tickets(june_contract)
    make_ticket(
        june_contract, severity=3, received=et(2026, 5, 12, 9), responded=et(2026, 5, 12, 15)
    )
    make_ticket(june_contract, severity=2, received=et(2026, 7, 1, 9), responded=et(2026, 7, 1, 10))
    statement_generate(contract=june_contract, month=JUNE, now=NOW)
    catalog_contract(customer, "balto-uptime", {"Balto Platform": "3000.00"}, reference="C-BALTO")
    other = CustomerFactory(name="Initech")
    contract = catalog_contract(other, "heretto-enterprise", {"Initech CCMS": "100.00"})
    make_ticket(contract, severity=1, received=et(2026, 6, 2, 9), responded=et(2026, 6, 2, 9, 10))
    return CustomerUserFactory(customer=customer, first_name="Nina")


def test_the_customer_reads_their_attainment_report(page, live_server, report_data):
    from playwright.sync_api import expect

    login(page, live_server, report_data)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="SLA report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("SLA attainment")
    page.goto(f"{live_server.url}/portal/reports/attainment/{RANGE}")
    table = page.get_by_test_id("attainment-table")
    expect(table.get_by_role("row")).to_have_count(5)  # header, May, June ×2, July
    expect(table).to_contain_text("3 h")
    expect(page.get_by_text("Initech")).to_have_count(0)
    chart = page.get_by_role("img", name="First response targets met per severity and month")
    expect(chart).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("download-xlsx").click()
    assert download.value.suggested_filename == "sla-attainment-2026-04-to-2026-07.xlsx"
    assert_accessible(page, "customer attainment report")
    screenshot(page, "attainment-portal")


def test_the_account_manager_reads_their_customers_report(
    page, live_server, report_data, account_manager
):
    from playwright.sync_api import expect

    login(page, live_server, account_manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="SLA report").click()
    page.goto(f"{live_server.url}/backoffice/reports/attainment/{RANGE}")
    expect(page.get_by_role("heading", level=1)).to_have_text("SLA attainment")
    expect(page.get_by_test_id("attainment-table")).to_contain_text("Northwind Traders")
    expect(page.get_by_text("Initech")).to_have_count(0)
    page.get_by_role("textbox", name="From").fill("2026-07")
    page.get_by_role("textbox", name="To").fill("2026-05")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("error-end")).to_contain_text("The last month comes before")
    page.goto(f"{live_server.url}/backoffice/reports/attainment/{RANGE}")
    assert_accessible(page, "staff attainment report")
    screenshot(page, "attainment-staff")


def test_the_customer_reads_their_sla(page, live_server, report_data):
    from playwright.sync_api import expect

    login(page, live_server, report_data)
    page.get_by_role("link", name="Your SLA", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your SLA")
    expect(page.get_by_test_id("sla-contract")).to_have_count(2)
    expect(page.get_by_test_id("sla-bands")).to_contain_text("5 % of the monthly fee")
    expect(page.get_by_test_id("sla-multiplier")).to_contain_text("capped at 30 %")
    assert_accessible(page, "SLA page")
    screenshot(page, "sla-portal")
