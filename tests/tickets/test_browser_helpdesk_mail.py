"""The helpdesk's acceptance flow, in headless Chromium with a real SMTP server on
loopback: a customer files a ticket and adds a colleague; the receipt (with its due
times) and the desk's new-ticket e-mail go out; an agent's reply reaches the customer
threaded under the receipt, and the colleague too; the customer answers by e-mail with
no reference in the subject, and the answer lands on the ticket."""

from __future__ import annotations

import email
import email.policy
import time
from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

import pytest

from tests.support.browser import login, screenshot
from tests.support.factories import CustomerUserFactory, ticket_contract
from tests.support.mail_helpers import ingest
from tickets.models import Ticket

pytestmark = pytest.mark.browser


def received(smtp, to: str, subject_part: str, seconds: float = 10):
    """The message the SMTP server accepted for ``to`` with ``subject_part``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in smtp.received:
            if message["To"] == to and subject_part in message["Subject"]:
                return message
        time.sleep(0.1)
    got = [(m["To"], m["Subject"]) for m in smtp.received]
    raise AssertionError(f"no {subject_part!r} for {to}; the server got {got}")


def text_of(message, kind: str = "plain") -> str:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    return parsed.get_body(preferencelist=(kind,)).get_content()


def test_every_party_is_told_and_the_reply_by_e_mail_lands_on_the_ticket(
    page,
    browser,
    live_server,
    catalog,
    customer,
    customer_user,
    agent,
    celery_eager,
    smtp,
    settings,
    tmp_path,
):
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = tmp_path
    settings.SUPPORT_EMAIL = "support@provider.test"
    ticket_contract(customer, reference="NW-2026-001")
    customer_user.time_zone = "America/New_York"
    customer_user.save()
    colleague = CustomerUserFactory(customer=customer, first_name="Cleo", last_name="Colleague")

    # The customer files a ticket and adds a colleague.
    login(page, live_server, customer_user)
    page.goto(f"{live_server.url}/portal/tickets/new/")
    page.get_by_label("Subject").fill("Publishing to the help site fails")
    page.get_by_label("Affected service").select_option(index=1)
    page.get_by_label("Description").fill("Every publish job since 9am ends with HTTP 500.")
    page.get_by_label("Severity 2 · Critical business process blocked").check()
    page.get_by_role("button", name="Submit ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publishing to the help site fails")
    ticket = Ticket.objects.get(customer=customer)
    page.get_by_label("Add a colleague").select_option(label=f"Cleo Colleague ({colleague.email})")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Cleo Colleague now gets the replies on this ticket.")).to_be_visible()
    screenshot(page, "helpdesk-portal-watchers")

    # The receipt, with the due times in the customer's zone; the desk's alert.
    receipt = received(smtp, customer_user.email, "Received")
    due = ticket.response_due_at.astimezone(ZoneInfo("America/New_York"))
    assert f"First response due: {due:%a %-d %b %Y, %H:%M} (America/New_York)" in text_of(receipt)
    assert receipt["Reply-To"] == "support@provider.test"
    alert = received(smtp, agent.email, f"[{ticket.reference}] New S2 ticket")
    assert f"/desk/tickets/{ticket.pk}/" in text_of(alert)

    # The agent replies on the desk; the customer's copy answers the receipt.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    desk = context.new_page()
    login(desk, live_server, agent)
    desk.goto(f"{live_server.url}/desk/tickets/{ticket.pk}/")
    desk.get_by_label("Message").fill("We found the cause and are rolling out a fix now.")
    desk.get_by_role("button", name="Send reply to customer").click()
    expect(desk.get_by_text("Reply sent; the customer is e-mailed.")).to_be_visible()
    reply = received(smtp, customer_user.email, "New reply")
    assert reply["In-Reply-To"] == receipt["Message-ID"]
    assert receipt["Message-ID"] in reply["References"].split()
    assert reply["Message-ID"] != receipt["Message-ID"]
    assert "rolling out a fix" in text_of(reply)
    letter = context.new_page()  # the HTML part as a mail client shows it
    letter.set_content(text_of(reply, "html"))
    expect(letter.get_by_text("We found the cause and are rolling out a fix now.")).to_be_visible()
    screenshot(letter, "helpdesk-reply-email")
    letter.set_content(text_of(receipt, "html"))
    screenshot(letter, "helpdesk-receipt-email")
    # The colleague gets the public reply too.
    cc = received(smtp, colleague.email, "New reply")
    assert "rolling out a fix" in text_of(cc) and cc["In-Reply-To"] == receipt["Message-ID"]

    # The customer answers from their mail client, the subject without the reference.
    answer = EmailMessage()
    answer["From"] = customer_user.email
    answer["To"] = "support@provider.test"
    answer["Subject"] = "Re: New reply: Publishing to the help site fails"
    answer["Message-ID"] = make_msgid(domain="customer.test")
    answer["In-Reply-To"] = reply["Message-ID"]
    answer["References"] = f"{reply['References']} {reply['Message-ID']}"
    answer.set_content(
        "Thanks, publishing works again.\n\n"
        "On Mon, 8 Jun 2026 at 10:02, Support <support@provider.test> wrote:\n"
        "> We found the cause and are rolling out a fix now.\n"
    )
    assert "reply on" in ingest(answer.as_bytes())
    assert ticket.messages.filter(body="Thanks, publishing works again.").exists()
    desk.reload()
    expect(desk.get_by_text("Thanks, publishing works again.", exact=True)).to_be_visible()
    desk.get_by_text("Show the whole e-mail").click()  # the quoted thread, for staff
    expect(desk.locator("pre.code-block")).to_contain_text("> We found the cause")
    screenshot(desk, "helpdesk-desk-reply-by-mail")
    context.close()
