"""Service credits in headless Chromium: an account manager reviews a computed credit
(its working and the availability behind it), is told a rejection needs a reason,
approves it; the customer then finds it on their credits page and follows it to the
invoice it was taken off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from contracts.models import SLAPolicy
from contracts.services import contract_create
from credits.models import Credit, LedgerEntry
from credits.services import credit_compute, credits_apply
from outages.services import outage_record
from tests.support.accessibility import assert_accessible
from tests.support.browser import login, screenshot
from tests.support.factories import (
    CustomerFactory,
    CustomerUserFactory,
    InvoiceFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.browser

ET = ZoneInfo("America/New_York")
JUNE = date(2026, 6, 1)
COMPUTED_AT = datetime(2026, 7, 2, 12, tzinfo=UTC)


@pytest.fixture
def credit_data(catalog, account_manager):
    """Northwind's June: five hours of CCMS downtime under the tiered SLA, computed into
    a pending credit; an open invoice for July."""
    account_manager.first_name, account_manager.last_name = "Maria", "Manager"
    account_manager.time_zone = "America/New_York"
    account_manager.save()
    ccms = ServiceFactory(name="Content CMS", code="ccms")
    customer = CustomerFactory(name="Northwind Traders")
    customer.account_managers.add(account_manager)
    contract = contract_create(
        customer=customer,
        policy=SLAPolicy.objects.get(code="heretto-ccms"),
        reference="NW-2026-001",
        start_date=date(2026, 1, 1),
        currency="USD",
        lines=[(ccms, Decimal("4000.00"))],
    )
    start = datetime(2026, 6, 10, 12, tzinfo=ET)
    outage_record(
        service=ccms,
        started_at=start,
        ended_at=start + timedelta(minutes=300),
        category="internal",
        title="Database failover",
        actor=None,
        now=COMPUTED_AT,
    )
    (credit,) = credit_compute(contract=contract, month=JUNE, now=COMPUTED_AT)
    assert credit.status == Credit.Status.PENDING
    invoice = InvoiceFactory(
        contract=contract,
        number="NW-INV-2026-07",
        amount=Decimal("4000.00"),
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 31),
        issued_on=date(2026, 7, 1),
        due_on=date(2026, 7, 31),
    )
    person = CustomerUserFactory(customer=customer, first_name="Nina", last_name="Northwind")
    return credit, invoice, person


def test_account_manager_approves_a_credit_and_the_customer_sees_it(
    page, live_server, account_manager, credit_data
):
    from playwright.sync_api import expect

    credit, invoice, person = credit_data
    amount = f"{credit.amount:,.2f} USD"

    login(page, live_server, account_manager)
    page.get_by_role("link", name="Credit approvals", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Credit approvals")
    card = page.locator("article.credit-card")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", level=3)).to_have_text("Northwind Traders · Content CMS")
    card.locator("summary", has_text="How the credit was worked out").click()
    expect(card.get_by_role("row", name="Band")).to_be_visible()
    expect(card.get_by_role("link", name="Availability in June 2026")).to_have_attribute(
        "href", f"/ops/contracts/{credit.contract_id}/availability/?month=2026-06"
    )
    assert_accessible(page, "credit approvals, working opened")
    screenshot(page, "credits-queue")

    card.get_by_role("link", name="Review and decide").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Content CMS credit, June 2026")
    page.get_by_role("button", name="Reject credit").click()
    expect(page.get_by_text("Give the reason for rejecting the credit.")).to_be_visible()
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING
    assert_accessible(page, "credit page, rejection without a reason")
    screenshot(page, "credit-reject-needs-reason")

    page.get_by_role("button", name=f"Approve {amount}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Credit approvals")
    # Approval applies the credit at once to the open July invoice, by a credit note.
    expect(page.get_by_text(f"Approved: {amount} credited to Northwind Traders")).to_contain_text(
        "Applied to invoice NW-INV-2026-07 by credit note CN-2026-000001"
    )
    expect(page.get_by_text("No credits are waiting for a decision")).to_be_visible()
    assert_accessible(page, "credit approvals, empty")
    screenshot(page, "credits-queue-after-approval")
    page.locator(".recent-decisions").get_by_role("link", name="Northwind Traders").click()
    history = page.get_by_test_id("credit-history")
    expect(history).to_contain_text("Approved")
    expect(history).to_contain_text("Maria Manager")
    expect(page.get_by_test_id("credit-state")).to_contain_text(
        "Applied to invoice NW-INV-2026-07 by credit note CN-2026-000001"
    )
    assert_accessible(page, "approved credit page")
    screenshot(page, "credit-approved")
    assert list(
        LedgerEntry.objects.filter(credit=credit).order_by("pk").values_list("kind", flat=True)
    ) == ["credit_granted", "credit_applied"]
    page.goto(f"{live_server.url}/am/invoices/")
    expect(page.get_by_role("link", name="NW-INV-2026-07")).to_be_visible()
    assert_accessible(page, "staff invoice list")

    # Nothing is left to apply: the hourly sweep finds nothing.
    assert credits_apply(customer=invoice.customer) == []

    page.get_by_role("button", name="Sign out").click()
    login(page, live_server, person)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Service credits")
    expect(page.get_by_test_id("balance-USD")).to_have_text("0.00 USD")
    june = page.get_by_role("row").filter(has_text="Contract NW-2026-001")
    expect(june).to_contain_text("Applied")
    expect(june).to_contain_text("Applied to invoice NW-INV-2026-07 by credit note CN-2026-000001")
    expect(june).to_contain_text(amount)
    expect(page.locator("table.ledger tbody tr")).to_have_count(2)
    assert_accessible(page, "customer credits")
    screenshot(page, "customer-credits")

    page.get_by_role("link", name="Invoice NW-INV-2026-07").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoice NW-INV-2026-07")
    expect(page.locator("tr.line--credit")).to_contain_text(f"-{amount}")
    total = Decimal("4000.00") - credit.amount
    expect(page.get_by_test_id("invoice-total")).to_have_text(f"{total:,.2f} USD")
    assert_accessible(page, "customer invoice")
    screenshot(page, "customer-invoice")
    page.goto(f"{live_server.url}/portal/invoices/")
    expect(page.get_by_role("link", name="NW-INV-2026-07")).to_be_visible()
    assert_accessible(page, "customer invoice list")
    page.set_viewport_size({"width": 390, "height": 844})
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoice NW-INV-2026-07")
    assert_accessible(page, "customer invoice, phone width")
    page.goto(f"{live_server.url}/portal/credits/")
    assert_accessible(page, "customer credits, phone width")
    screenshot(page, "customer-credits-mobile")
