"""Operations in headless Chromium: record an outage through the form, post an update,
close it, then read the contract's availability chart."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from contracts.models import SLAPolicy
from contracts.services import contract_create
from outages.models import Outage
from outages.services import outage_record
from tests.support.accessibility import assert_accessible
from tests.support.browser import login, screenshot
from tests.support.factories import CustomerFactory, ServiceFactory

pytestmark = pytest.mark.browser

ET = ZoneInfo("America/New_York")


@pytest.fixture
def ops_data(catalog, operations):
    """A named operations user in New York, a contract, and some earlier outages."""
    operations.first_name, operations.last_name = "Olga", "Ops"
    operations.time_zone = "America/New_York"
    operations.save()
    ccms = ServiceFactory(name="Content CMS", code="ccms")
    portal = ServiceFactory(name="Customer portal", code="portal")
    customer = CustomerFactory(name="Northwind Traders")
    contract = contract_create(
        customer=customer,
        policy=SLAPolicy.objects.get(code="heretto-ccms"),
        reference="NW-2026-001",
        start_date=date(2025, 1, 1),
        currency="USD",
        lines=[(ccms, Decimal("4200.00")), (portal, Decimal("950.00"))],
    )
    now = timezone.now().replace(second=0, microsecond=0)
    earlier = [
        (ccms, 3, 45, "internal", "Search index rebuild stalled"),
        (ccms, 9, 130, "internal", "Database failover"),
        (portal, 6, 60, "third_party", "Payment provider outage"),
        (portal, 12, 20, "performance_degradation", "Slow page loads"),
        (portal, 8, 90, "scheduled_maintenance", "Database upgrade window"),
    ]
    for service, days_ago, minutes, category, title in earlier:
        start = now - timedelta(days=days_ago, hours=2)
        outage_record(
            service=service,
            started_at=start,
            ended_at=start + timedelta(minutes=minutes),
            category=category,
            title=title,
            actor=None,
        )
    return contract


def test_operations_record_update_and_close_an_outage_then_read_availability(
    page, live_server, operations, ops_data
):
    from playwright.sync_api import expect

    login(page, live_server, operations)
    expect(page.get_by_role("heading", level=1)).to_have_text("Outages")
    expect(page.get_by_role("link", name="Database failover")).to_be_visible()
    assert_accessible(page, "outage list")
    screenshot(page, "ops-list")

    page.get_by_role("link", name="Record an outage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record an outage")
    started = timezone.now().astimezone(ET) - timedelta(hours=1)
    page.get_by_label("Title", exact=True).fill("Editor does not load")
    page.get_by_label("Service", exact=True).select_option(label="Content CMS")
    page.get_by_label("Cause", exact=True).select_option(label="Internal fault")
    page.get_by_label("Started").fill(started.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Public description").fill("Opening a topic in the editor times out.")
    page.get_by_label("Ended").fill((started - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Record outage").click()
    expect(page.get_by_text("An outage must end after it starts.")).to_be_visible()
    assert not Outage.objects.filter(title="Editor does not load").exists()
    assert_accessible(page, "outage form with an error")
    screenshot(page, "ops-outage-new-error")
    page.get_by_label("Ended").fill("")
    page.get_by_role("button", name="Record outage").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Editor does not load")
    expect(page.get_by_text("Outage “Editor does not load” recorded.")).to_be_visible()
    page.get_by_label("Update", exact=True).fill("Failing over to the standby database.")
    page.get_by_label("Public: show this update to affected customers").check()
    page.get_by_role("button", name="Post update").click()
    expect(page.get_by_text("Public update posted.")).to_be_visible()
    expect(page.locator(".timeline__item--public")).to_have_count(2)
    page.get_by_label("Update", exact=True).fill("Root cause: the primary's disk filled up.")
    page.get_by_role("button", name="Post update").click()
    expect(page.locator(".timeline__item--internal")).to_have_count(1)
    assert_accessible(page, "outage page with updates")
    screenshot(page, "ops-outage-detail")

    ended = timezone.now().astimezone(ET) - timedelta(minutes=5)
    page.get_by_label("Ended").fill(ended.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Close outage").click()
    expect(page.get_by_text("Outage closed; customers see it as resolved.")).to_be_visible()
    expect(page.locator(".page-header .badge")).to_have_text("Resolved")
    outage = Outage.objects.get(title="Editor does not load")
    assert outage.ended_at is not None and outage.updates.count() == 4
    assert_accessible(page, "closed outage page")
    screenshot(page, "ops-outage-closed")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Availability").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contracts")
    assert_accessible(page, "contract list")
    screenshot(page, "ops-contracts")
    page.get_by_role("link", name="Availability of NW-2026-001").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Availability in")
    chart = page.get_by_role("img", name="Downtime per day, Content CMS")
    expect(chart).to_be_visible()
    expect(page.locator(".chart__bar").first).to_be_visible()
    assert_accessible(page, "availability chart")
    screenshot(page, "ops-availability")
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page, "availability chart, phone width")
    screenshot(page, "ops-availability-mobile")
