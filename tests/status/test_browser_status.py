"""The public status page in headless Chromium, without signing in: service states, an
active incident with its stage, impact and public update, uptime over 30, 90 and 365
days, no internal note, the Statuspage-compatible JSON it links, and no axe-core
violations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from outages.services import outage_close, outage_post_update, outage_record
from tests.support.accessibility import assert_accessible
from tests.support.browser import screenshot
from tests.support.factories import CustomerFactory, ServiceFactory, make_contract

pytestmark = pytest.mark.browser

INTERNAL_NOTE = "Root cause: disk full on db-primary-3, paged Sam."
INTERNAL_UPDATE = "Still waiting on the storage vendor's ticket."


@pytest.fixture
def status_data(transactional_db):
    cache.clear()
    now = timezone.now()
    cms = ServiceFactory(name="Content CMS", code="ccms")
    api = ServiceFactory(name="Delivery API", code="delivery-api")
    search = ServiceFactory(name="Search", code="search")
    ServiceFactory(name="Customer portal", code="portal")
    outage = outage_record(
        service=cms,
        started_at=now - timedelta(minutes=50),
        category="internal",
        title="Editors cannot save documents",
        description="Saving a document fails with an error for some editors.",
        internal_notes=INTERNAL_NOTE,
        actor=None,
        now=now - timedelta(minutes=45),
    )
    outage_post_update(
        outage=outage,
        text="We have found the cause and are rolling out a fix.",
        public=True,
        stage="identified",
        actor=None,
        now=now - timedelta(minutes=20),
    )
    outage_post_update(
        outage=outage,
        text=INTERNAL_UPDATE,
        public=False,
        actor=None,
        now=now - timedelta(minutes=10),
    )
    outage_record(
        service=api,
        started_at=now - timedelta(hours=2),
        category="internal",
        impact="partial_outage",
        title="Some deliveries time out",
        actor=None,
    )
    outage_record(
        service=search,
        started_at=now + timedelta(days=2),
        ended_at=now + timedelta(days=2, hours=2),
        announced_at=now - timedelta(days=1),
        category="scheduled_maintenance",
        title="Search index upgrade",
        description="Search may return partial results during the upgrade.",
        actor=None,
    )
    for days_ago, minutes in ((3, 95), (17, 30), (41, 240), (66, 12)):
        past = outage_record(
            service=api if days_ago % 2 else cms,
            started_at=now - timedelta(days=days_ago, hours=3),
            category="internal",
            title=f"Errors {days_ago} days ago",
            actor=None,
        )
        outage_close(
            outage=past,
            ended_at=past.started_at + timedelta(minutes=minutes),
            actor=None,
            text="Resolved.",
        )
    wonka = CustomerFactory(name="Wonka Industries")
    service = make_contract(wonka).lines.get().service
    outage_record(
        service=service,
        started_at=now - timedelta(minutes=5),
        category="internal",
        title="Wonka tenant down",
        scope="customers",
        customers=[wonka],
        actor=None,
    )
    yield outage
    cache.clear()


def test_public_status_page_shows_states_and_public_updates_only(page, live_server, status_data):
    page.goto(f"{live_server.url}/status/")  # no sign-in
    expect(page.get_by_role("heading", level=1)).to_have_text("Some services are unavailable")

    def service(name: str):
        return page.locator(f'li.status-service[data-service="{name}"]')

    expect(service("Content CMS").locator(".state")).to_have_text("✕ Major outage")
    expect(service("Delivery API").locator(".state")).to_have_text("◐ Partial outage")
    expect(service("Customer portal").locator(".state")).to_have_text("✓ Operational")
    expect(service("Content CMS").locator(".uptime__day")).to_have_count(90)
    windows = service("Customer portal").locator(".uptime-windows")
    expect(windows).to_contain_text("30 days")
    expect(windows).to_contain_text("365 days")
    expect(windows.locator("dd")).to_have_text(["100%", "100%", "100%"])

    active = page.locator("section", has=page.locator("#active-heading"))
    incident = active.locator("article", has_text="Editors cannot save documents")
    expect(incident).to_contain_text("We have found the cause and are rolling out a fix.")
    expect(incident.locator(".incident__badges")).to_contain_text("Identified")
    expect(incident.locator(".incident__badges .state")).to_have_text("✕ Major outage")
    maintenance = page.locator("section", has=page.locator("#maintenance-heading"))
    expect(maintenance).to_contain_text("Search index upgrade")

    content = page.content()
    assert INTERNAL_NOTE not in content and INTERNAL_UPDATE not in content
    assert "Wonka" not in content
    screenshot(page, "status-page")
    assert_accessible(page, "status page")

    json_link = page.get_by_role("link", name="Statuspage-compatible JSON")
    summary = page.request.get(f"{live_server.url}{json_link.get_attribute('href')}")
    assert summary.ok and summary.headers["access-control-allow-origin"] == "*"
    body = summary.json()
    assert body["status"]["indicator"] == "critical"
    assert [i["name"] for i in body["incidents"]] == [
        "Editors cannot save documents",
        "Some deliveries time out",
    ]
    assert INTERNAL_NOTE not in summary.text() and "Wonka" not in summary.text()

    incident.get_by_role("link", name="Editors cannot save documents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Editors cannot save documents")
    expect(page.locator(".status-updates")).to_contain_text("rolling out a fix")
    assert INTERNAL_NOTE not in page.content() and INTERNAL_UPDATE not in page.content()
    screenshot(page, "status-incident")
    assert_accessible(page, "status incident page")
