"""Alert triage and the alerts page in headless Chromium, each step checked with axe-core:
the unconfirmed outages at the top of /ops/, a refused confirmation, a dismissal, and
/ops/alerts/ (a source's one-time token, a route form's errors)."""

from __future__ import annotations

import pytest

from outages.models import AlertRoute, AlertSource, Outage
from outages.services import outage_record
from tests.support.accessibility import assert_accessible
from tests.support.alert_helpers import STARTS
from tests.support.browser import login, screenshot
from tests.support.factories import ServiceFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def opened(db, operations):
    operations.time_zone = "America/New_York"
    operations.save()
    return outage_record(
        service=ServiceFactory(name="Public API", code="api"),
        started_at=STARTS,
        category="internal",
        title="API answers 503",
        source=Outage.Source.ALERT,
        actor=None,
    )


def test_operations_triage_an_alerts_outage_and_set_up_alert_intake(
    page, live_server, operations, opened
):
    from playwright.sync_api import expect

    login(page, live_server, operations)
    card = page.get_by_test_id("unconfirmed")
    expect(card.get_by_role("heading", name="Unconfirmed outages")).to_be_visible()
    assert_accessible(page, "outage list with unconfirmed outages")
    screenshot(page, "ops-unconfirmed")

    card.get_by_role("link", name="API answers 503").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API answers 503")
    page.get_by_label("Confirmed at").fill("2026-11-18T07:00")  # before it started (08:00)
    page.get_by_role("button", name="Confirm outage").click()
    expect(page.get_by_text("An outage cannot be confirmed before it starts.")).to_be_visible()
    assert_accessible(page, "confirm form with an error")
    screenshot(page, "ops-outage-triage-error")

    page.get_by_label("Why is it a false alarm?").fill("The probe pointed at staging.")
    page.get_by_role("button", name="Dismiss as a false alarm").click()
    expect(page.get_by_text("Dismissed as a false alarm")).to_be_visible()
    opened.refresh_from_db()
    assert opened.is_dismissed and opened.confirmed_at is None
    assert_accessible(page, "dismissed outage")

    page.goto(f"{live_server.url}/ops/")
    expect(page.get_by_test_id("unconfirmed")).to_have_count(0)
    page.get_by_role("link", name="Alerts and routes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    page.get_by_label("Name").fill("Alertmanager (prod)")
    page.get_by_role("button", name="Add source and show its token").click()
    token = page.get_by_test_id("alert-source-token").inner_text()
    assert len(token) > 30 and AlertSource.objects.get().token_sha256 != token

    page.get_by_label("Value").fill("api")
    page.get_by_role("button", name="Add route").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()  # no service
    assert_accessible(page, "route form with an error")
    page.get_by_label("Service").select_option(label="Public API")
    page.get_by_role("button", name="Add route").click()
    expect(page.get_by_role("cell", name="Public API")).to_be_visible()
    assert AlertRoute.objects.get().value == "api"
    assert_accessible(page, "alerts page")
    screenshot(page, "ops-alerts")
