"""Both dashboards in headless Chromium with realistic data: a customer's month so far,
open tickets, credit balance, statements and an ongoing incident; an account manager's
customers ranked by risk, credits awaiting a decision and the attainment chart.

The data is built relative to the suite's instant (``make test-edges`` runs these at
month ends, DST changes, 29 February…): "this month" is the month the Heretto policy's
zone (New York) is in then, and last month's statement the last month ended there."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from credits.models import Credit
from outages.services import outage_post_update, outage_record
from statements.selectors import last_ended_month
from statements.services import statement_generate
from tests.support.accessibility import assert_accessible
from tests.support.browser import login, screenshot
from tests.support.factories import (
    CustomerFactory,
    CustomerUserFactory,
    TicketFactory,
    catalog_contract,
    grant,
    pending_credit,
)

pytestmark = [pytest.mark.browser, pytest.mark.edges]
ET = ZoneInfo("America/New_York")


def this_month(now: datetime) -> datetime:
    """The start of the month New York is in at ``now`` (the Heretto policy's zone)."""
    local = now.astimezone(ET)
    return datetime(local.year, local.month, 1, tzinfo=ET)


def status_so_far(down_since: datetime, now: datetime) -> str:
    """A service down (or degraded, which the tiered SLA counts) since ``down_since`` and
    still: on track while that is at most 0.5 % of the month so far. Late in a month 40
    minutes are; in its first days they are not. (The page is rendered a few seconds
    after ``now``; no instant the suite uses is that close to the threshold.)"""
    start = this_month(now)
    down = now - max(down_since, start)
    return "On track" if down * 200 <= now - start else "Below target"


def _ticket(contract, subject: str, severity: int, received, *, due: timedelta, **kw):
    """A ticket with stored clocks: the first response due ``due`` after receipt."""
    return TicketFactory(
        contract=contract,
        subject=subject,
        severity=severity,
        received_at=received,
        created_at=received,
        response_target=due,
        response_due_at=received + due,
        resolution_target=due * 8,
        resolution_due_at=received + due * 8,
        **kw,
    )


def _past_tickets(contract, now) -> None:
    """A year of answered and resolved tickets, three per severity and month: mostly on
    time, some late (more often on severity 2, and in the summer)."""
    for months_ago in range(1, 12):
        for severity in (1, 2, 3, 4):
            for n in range(3):
                received = now - timedelta(days=30 * months_ago + 3 + n)
                late = (months_ago * 3 + severity + n) % (4 if severity == 2 else 7) == 0
                slow = (months_ago + severity * n) % 5 == 0 or (6 <= months_ago <= 7 and n == 0)
                done = received + (timedelta(hours=12) if slow else timedelta(hours=5))
                _ticket(
                    contract,
                    f"Past issue {months_ago}-{severity}-{n}",
                    severity,
                    received,
                    due=timedelta(hours=1),
                    responded_at=received + (timedelta(hours=3) if late else timedelta(minutes=40)),
                    status="closed",
                    resolved_at=done,
                    closed_at=done,
                )


@pytest.fixture
def dashboard_data(
    catalog,
    customer,
    account_manager,
    statement_media,
    statements_emptied_after,  # noqa: F811
):
    now = timezone.now()
    since = date(now.year - 1, now.month, 1)  # the contracts began a year ago
    customer.name = "Northwind Traders"
    customer.save()
    account_manager.first_name, account_manager.last_name = "Maria", "Manager"
    account_manager.save()
    customer.account_managers.add(account_manager)
    contract = catalog_contract(
        customer,
        "heretto-ccms",
        {"Heretto CCMS": "4000.00", "Cloud Publishing": "1500.00"},
        start=since,
        reference="NW-2026-001",
    )
    ccms, publishing = (contract.services.get(name=n) for n in ("Heretto CCMS", "Cloud Publishing"))
    # CCMS down for the last six hours and still down, inside this month (all of it so
    # far when the month is younger): below the 99.5 % target for the month so far,
    # whatever the instant, and nothing for last month's statement to credit.
    outage_record(
        service=ccms,
        started_at=max(now - timedelta(hours=6), this_month(now)),
        category="internal",
        title="CCMS unavailable",
        actor=None,
        now=now,
    )
    incident = outage_record(
        service=publishing,
        started_at=max(now - timedelta(minutes=40), this_month(now)),
        category="performance_degradation",
        title="Slow PDF exports",
        description="Exports to PDF take several minutes to complete.",
        internal_notes="Render farm node 3 out of memory",
        actor=None,
        now=now,
    )
    outage_post_update(
        outage=incident,
        text="We are adding capacity to the export service.",
        public=True,
        actor=None,
    )
    outage_post_update(outage=incident, text="Restarted node 3 twice.", public=False, actor=None)
    _ticket(
        contract,
        "Editor loses unsaved changes",
        2,
        now - timedelta(hours=5),
        due=timedelta(hours=2),
        status="open",
    )
    _ticket(
        contract,
        "Search results out of date",
        3,
        now - timedelta(minutes=30),
        due=timedelta(hours=8),
        status="new",
    )
    _ticket(
        contract,
        "Question about SSO setup",
        4,
        now - timedelta(days=1),
        due=timedelta(days=2),
        status="waiting_on_customer",
        responded_at=now - timedelta(hours=20),
    )
    _past_tickets(contract, now)
    last_month = last_ended_month("America/New_York", now)
    statement = statement_generate(contract=contract, month=last_month, now=now)
    before = (last_month - timedelta(days=1)).replace(day=1)
    grant(contract, account_manager, "200.00", month=before)
    pending = pending_credit(contract, "62.50", month=last_month)

    contoso = CustomerFactory(name="Contoso Ltd")
    contoso.account_managers.add(account_manager)
    contoso_contract = catalog_contract(
        contoso,
        "balto-uptime",
        {"Balto Platform": "3000.00"},
        start=since,
        reference="CT-2025-014",
    )
    _ticket(
        contoso_contract,
        "API returns 502",
        1,
        now - timedelta(hours=3),
        due=timedelta(hours=1),
        status="open",
    )
    fabrikam = CustomerFactory(name="Fabrikam Inc")
    fabrikam.account_managers.add(account_manager)
    catalog_contract(
        fabrikam, "deploy-essential", {"Deploy": "800.00"}, start=since, reference="FB-2026-002"
    )
    # Another manager's customer, with a credit of its own: never on Maria's dashboard.
    stranger = CustomerFactory(name="Initech")
    pending_credit(
        catalog_contract(
            stranger, "heretto-ccms", {"Heretto CCMS": "900.00"}, start=since, reference="IN-9"
        ),
        "99.00",
        month=last_month,
    )
    # The engine counts whole seconds, so in a month's first second nothing is measured
    # yet (100 %). At an instant that close to the month's start (make test-edges has
    # one), let the running clock pass it before the pages are read.
    settle = this_month(now) + timedelta(seconds=2) - timezone.now()
    if settle > timedelta(0):
        time.sleep(settle.total_seconds())
    return {
        "statement": statement,
        "pending": pending,
        "customer": customer,
        "month": f"{this_month(now):%B %Y}",
        "ccms": status_so_far(now - timedelta(hours=6), now),
        "publishing": status_so_far(now - timedelta(minutes=40), now),
    }


def test_customer_dashboard_shows_the_month_tickets_credits_statements_and_incidents(
    page, live_server, dashboard_data
):
    from playwright.sync_api import expect

    person = CustomerUserFactory(
        customer=dashboard_data["customer"], first_name="Carlos", last_name="Díaz"
    )
    login(page, live_server, person)
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Traders")

    availability = page.get_by_test_id("availability")
    assert dashboard_data["ccms"] == "Below target"  # six hours are more than 0.5 % of a month
    for service, status in (
        ("Heretto CCMS", dashboard_data["ccms"]),
        ("Cloud Publishing", dashboard_data["publishing"]),
    ):
        row = availability.get_by_role("row").filter(has_text=service)
        expect(row).to_contain_text(dashboard_data["month"])
        expect(row).to_contain_text(status)
    incidents = page.get_by_test_id("incidents")
    expect(incidents).to_contain_text("CCMS unavailable")
    expect(incidents).to_contain_text("Slow PDF exports")
    expect(incidents).to_contain_text("We are adding capacity to the export service.")
    expect(incidents).not_to_contain_text("Render farm")
    expect(incidents).not_to_contain_text("Restarted node 3")

    tickets = page.get_by_test_id("open-tickets")
    expect(tickets.get_by_role("row")).to_have_count(4)  # header + 3 open tickets
    expect(tickets.get_by_role("row").filter(has_text="Editor loses")).to_contain_text("Breached")
    expect(page.get_by_test_id("balance-USD")).to_have_text("200.00 USD")
    expect(page.get_by_test_id("statements")).to_contain_text(dashboard_data["statement"].number)
    expect(page.get_by_text("IN-9")).to_have_count(0)

    assert_accessible(page, "customer dashboard")
    screenshot(page, "dashboard-customer")


def test_account_manager_dashboard_ranks_customers_and_charts_attainment(
    page, live_server, account_manager, dashboard_data
):
    from playwright.sync_api import expect

    login(page, live_server, account_manager)
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers")

    rows = page.get_by_test_id("risk-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Northwind Traders")
    expect(rows.nth(0)).to_contain_text("High")
    expect(rows.nth(0)).to_contain_text("below its 99.500 % target")
    expect(rows.nth(1)).to_contain_text("Contoso Ltd")
    expect(rows.nth(1)).to_contain_text("1 breached ticket")
    expect(rows.nth(2)).to_contain_text("Fabrikam Inc")
    expect(page.get_by_text("Initech")).to_have_count(0)

    credits = page.get_by_test_id("pending-credits")
    expect(credits.get_by_role("row")).to_have_count(2)
    expect(credits).to_contain_text("62.50 USD")
    credits.get_by_role("link", name="Review").click()
    expect(page).to_have_url(f"{live_server.url}/am/credits/{dashboard_data['pending'].pk}/")
    page.go_back()

    chart = page.get_by_role("img", name="First response targets met per severity and month")
    expect(chart).to_be_visible()
    page.get_by_text("First response: the figures as a table").click()
    expect(page.get_by_test_id("chart-first-response").get_by_role("table")).to_be_visible()
    assert Credit.objects.filter(status="pending").count() == 2

    assert_accessible(page, "account manager dashboard")
    screenshot(page, "dashboard-am")
