"""Tickets in headless Chromium, the acceptance flow of the tickets issue: a customer
files a severity 2 ticket with an attachment and sees its due times; an agent finds it at
the top of the queue and replies; the customer sees the reply and the response target
met. Screenshots (desktop and phone width) go to tests/artifacts/."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.support.accessibility import assert_accessible
from tests.support.browser import login, screenshot
from tests.support.factories import CustomerFactory, CustomerUserFactory, ticket_contract
from tickets.models import Ticket
from tickets.services import ticket_file

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def people(catalog, customer, customer_user, agent, celery_eager):
    """Northwind (tiered SLA, help desk hours in New York) and an agent in London; two
    tickets of another customer already waiting, with later deadlines than a new S2."""
    customer.name = "Northwind Traders"
    customer.save()
    contract = ticket_contract(customer, reference="NW-2026-001")
    service = contract.lines.first().service
    service.name = "Content CMS"
    service.save()
    customer_user.first_name, customer_user.last_name = "Nina", "Northwind"
    customer_user.time_zone = "America/New_York"
    customer_user.save()
    agent.first_name, agent.last_name, agent.time_zone = "Sam", "Support", "Europe/London"
    agent.save()
    other = CustomerFactory(name="Contoso Ltd")
    theirs = ticket_contract(other, reference="CT-2025-014").lines.first().service
    requester = CustomerUserFactory(customer=other, first_name="Carl", last_name="Contoso")
    earlier = timezone.now() - timedelta(minutes=5)
    for severity, subject in [(3, "Export to PDF is slow"), (4, "Typo in the help page")]:
        ticket_file(
            actor=requester,
            service=theirs,
            subject=subject,
            description="Please have a look.",
            severity=severity,
            now=earlier,
        )
    return customer_user, agent


def test_customer_files_agent_replies_customer_sees_the_response_met(
    page, browser, live_server, people, tmp_path, settings
):
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = tmp_path / "media"
    person, agent = people
    trace = tmp_path / "publish-error.log"
    trace.write_text("2026-11-23 09:14:02 ERROR publish job 4411 failed: HTTP 500\n")

    # The customer files a severity 2 ticket with an attachment.
    login(page, live_server, person)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Support tickets")
    expect(page.get_by_text("No tickets yet.")).to_be_visible()
    assert_accessible(page, "customer ticket list, empty")
    screenshot(page, "tickets-portal-empty")
    page.get_by_role("link", name="File a ticket").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("File a ticket")
    expect(page.get_by_role("note")).to_contain_text("authorizing the Heretto technical support")
    page.get_by_role("button", name="Submit ticket").click()
    expect(page.get_by_text("Give the ticket a subject.")).to_be_visible()
    assert not Ticket.objects.filter(customer=person.customer).exists()
    assert_accessible(page, "ticket form with field errors")
    screenshot(page, "tickets-portal-new-errors")
    page.get_by_role("link", name="← Your tickets").click()
    page.get_by_role("link", name="File a ticket").first.click()

    page.get_by_label("Subject").fill("Publishing to the help site fails")
    page.get_by_label("Affected service").select_option(label="Content CMS")
    page.get_by_label("Description").fill("Every publish job since 9am ends with HTTP 500.")
    page.get_by_label("Severity 2 · Critical business process blocked").check()
    page.get_by_label("Attachments").set_input_files(str(trace))
    assert_accessible(page, "ticket form, filled in")
    screenshot(page, "tickets-portal-new")
    page.get_by_role("button", name="Submit ticket").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Publishing to the help site fails")
    ticket = Ticket.objects.get(customer=person.customer)
    assert (ticket.severity, ticket.attachments.get().filename) == (2, "publish-error.log")
    expect(page.get_by_test_id("response-state")).to_have_text("On track")
    due = ticket.response_due_at.astimezone(ZoneInfo(person.time_zone))
    expect(page.get_by_test_id("response-due")).to_contain_text(f"{due:%-d %b %Y, %H:%M}")
    expect(page.get_by_test_id("resolution-due")).not_to_be_empty()
    expect(page.get_by_role("link", name="publish-error.log")).to_be_visible()
    assert_accessible(page, "customer ticket page")
    screenshot(page, "tickets-portal-filed")
    page.set_viewport_size(PHONE)
    assert_accessible(page, "customer ticket page, phone width")
    screenshot(page, "tickets-portal-filed-mobile")

    # The agent finds it at the top of the queue and replies.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    desk = context.new_page()
    login(desk, live_server, agent)
    expect(desk.get_by_role("heading", level=1)).to_have_text("Ticket queue")
    rows = desk.locator("table.queue tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first.get_by_role("link")).to_have_text("Publishing to the help site fails")
    assert_accessible(desk, "agent queue")
    screenshot(desk, "tickets-desk-queue")
    rows.first.get_by_role("link").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Publishing to the help site fails")
    desk.get_by_label("Message").fill("An internal look first: job 4411 hit the old renderer.")
    desk.get_by_role("button", name="Add internal note").click()
    expect(desk.get_by_text("Internal note added.")).to_be_visible()
    desk.get_by_label("Message").fill("We found the cause and are rolling out a fix now.")
    desk.get_by_role("button", name="Send reply to customer").click()
    expect(desk.get_by_text("Reply sent; the customer is e-mailed.")).to_be_visible()
    expect(desk.get_by_test_id("response-state")).to_have_text("Met")
    assert_accessible(desk, "agent ticket page")
    screenshot(desk, "tickets-desk-ticket")
    desk.set_viewport_size(PHONE)
    desk.goto(f"{live_server.url}/desk/")
    assert_accessible(desk, "agent queue, phone width")
    screenshot(desk, "tickets-desk-queue-mobile")
    desk.set_viewport_size({"width": 1280, "height": 800})
    desk.get_by_role("link", name="Log a phone or e-mail ticket").click()
    desk.get_by_label("Customer").fill("Northwind Traders")
    desk.get_by_label("Received").fill("2099-01-01T09:00")
    desk.get_by_role("button", name="Log ticket").click()
    expect(desk.get_by_text("The time received cannot be in the future.")).to_be_visible()
    assert_accessible(desk, "agent log-a-ticket form with a field error")
    screenshot(desk, "tickets-desk-log-error")
    context.close()

    # The customer sees the reply, not the note, and the response target met.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    expect(page.get_by_text("We found the cause and are rolling out a fix now.")).to_be_visible()
    expect(page.get_by_text("job 4411 hit the old renderer")).to_have_count(0)
    expect(page.get_by_test_id("response-state")).to_have_text("Met")
    assert_accessible(page, "customer ticket page with a reply")
    screenshot(page, "tickets-portal-replied")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)
    assert_accessible(page, "customer ticket list")
    screenshot(page, "tickets-portal-list")
    page.set_viewport_size(PHONE)
    assert_accessible(page, "customer ticket list, phone width")
    screenshot(page, "tickets-portal-list-mobile")
