"""Every party told: the requester's receipt, the desk's alerts, replies to watchers,
reclassifications with their reason; each ticket e-mail threaded, and a reply found by
its thread when the subject lost the reference."""

from __future__ import annotations

from datetime import datetime
from email import message_from_string
from zoneinfo import ZoneInfo

import pytest

from outbox.models import OutboxMessage
from tests.support.factories import CustomerUserFactory, StaffFactory
from tests.support.mail_helpers import mail
from tickets.mailthread import thread_root, ticket_pk_from_thread
from tickets.models import Ticket
from tickets.services import (
    ticket_file,
    ticket_ingest_email,
    ticket_reclassify,
    ticket_reply,
    ticket_take,
)

ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 8, 10, tzinfo=ET)  # Monday: S2 response due 14:00, S3 18:00


@pytest.fixture(autouse=True)
def support_address(settings):
    settings.SUPPORT_EMAIL = "support@provider.test"


@pytest.fixture
def ticket(customer_user, ticket_service, agent):
    return ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Publishing fails",
        description="Error 500 on every publish.",
        severity=2,
        now=NOW,
    )


def sent(prefix: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(dedupe_key__startswith=prefix).order_by("pk"))


def test_the_requester_gets_a_receipt_with_what_the_severity_means_and_when_it_is_due(
    ticket, customer_user
):
    [receipt] = sent("ticket-receipt:")
    assert receipt.to == [customer_user.email]
    assert receipt.subject == f"[{ticket.reference}] Received: Publishing fails"
    # Severity 2 of the tiered test policy, in the requester's zone (UTC by default).
    assert "Severity 2: First response within" in receipt.body
    assert "First response due: Mon 8 Jun 2026, 18:00 (UTC)" in receipt.body
    assert "Resolution due:" in receipt.body
    assert "Mon 8 Jun 2026, 18:00" in receipt.html_body and "<table" in receipt.html_body
    # It starts the ticket's e-mail thread; answers go to the support address.
    assert receipt.message_id == thread_root(ticket)
    assert receipt.headers == {"Reply-To": "support@provider.test"}


def test_due_times_are_in_the_recipients_own_zone(customer, ticket_service, agent):
    person = CustomerUserFactory(customer=customer, time_zone="Europe/Paris")
    ticket_file(
        actor=person,
        service=ticket_service,
        subject="Export stalls",
        description="Half-way.",
        severity=2,
        now=NOW,
    )
    [receipt] = sent("ticket-receipt:")
    assert "First response due: Mon 8 Jun 2026, 20:00 (Europe/Paris)" in receipt.body


def test_the_desk_hears_of_a_new_ticket_every_agent_while_nobody_has_it(
    customer_user, ticket_service, agent
):
    other = StaffFactory(role="agent")
    quiet = StaffFactory(role="agent", email_desk_alerts=False)
    ticket = ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Publishing fails",
        description="Error 500 on every publish.",
        severity=2,
        now=NOW,
    )
    alerts = sent("ticket-new:")
    assert sorted(m.to[0] for m in alerts) == sorted([agent.email, other.email])
    assert quiet.email not in [m.to[0] for m in alerts]
    [alert] = [m for m in alerts if m.to == [agent.email]]
    assert f"[{ticket.reference}] New S2 ticket" in alert.subject
    assert f"/desk/tickets/{ticket.pk}/" in alert.body  # the desk's page, not the portal's


def test_a_customer_reply_goes_to_the_assignee_only(ticket, agent, customer_user):
    StaffFactory(role="agent")
    ticket_take(ticket=ticket, actor=agent, now=NOW)
    message = ticket_reply(ticket=ticket, actor=customer_user, body="Any news?", now=NOW)
    [alert] = sent(f"ticket-desk-reply:{message.pk}:")
    assert alert.to == [agent.email] and "Any news?" in alert.body


def test_public_replies_reach_the_watchers_threaded_under_the_receipt(
    ticket, agent, customer, customer_user
):
    colleague = CustomerUserFactory(customer=customer)
    silent = CustomerUserFactory(customer=customer, email_ticket_updates=False)
    ticket.watchers.add(colleague, silent)
    reply = ticket_reply(ticket=ticket, actor=agent, body="Fixed in 4.2.", now=NOW)
    replies = sent(f"ticket-reply:{reply.pk}:")
    assert sorted(m.to[0] for m in replies) == sorted([customer_user.email, colleague.email])
    root = thread_root(ticket)
    for message in replies:
        assert message.headers["In-Reply-To"] == root
        assert message.headers["References"] == root
        assert message.message_id != root and ticket_pk_from_thread([message.message_id])
    # The headers are on the wire: what the SMTP server receives.
    from outbox.services.email import _email

    wire = message_from_string(_email(replies[0]).message().as_string())
    assert (wire["In-Reply-To"], wire["Reply-To"]) == (root, "support@provider.test")
    # An internal note reaches no one.
    ticket_reply(ticket=ticket, actor=agent, body="Check the logs.", public=False, now=NOW)
    assert len(sent("ticket-reply:")) == 2


def test_a_reclassification_tells_the_customer_why(ticket, agent, customer_user):
    ticket_reclassify(
        ticket=ticket, severity=3, reason="Only the preview is affected.", actor=agent, now=NOW
    )
    [told] = sent("ticket-reclassified:")
    assert told.to == [customer_user.email]
    assert "from 2 to 3" in told.body and "Why: Only the preview is affected." in told.body
    assert "Only the preview is affected." in told.html_body


def test_a_reply_without_the_reference_lands_on_its_ticket_by_the_thread(
    ticket, agent, customer_user
):
    reply = ticket_reply(ticket=ticket, actor=agent, body="Fixed?", now=NOW)
    [ours] = sent(f"ticket-reply:{reply.pk}:")
    raw = mail(
        customer_user.email,
        subject="Re: New reply",  # the client dropped the reference
        body="Yes, it works now.",
        headers={"In-Reply-To": ours.message_id, "References": ours.headers["References"]},
    )
    outcome = ticket_ingest_email(raw=raw, now=NOW)
    assert outcome.ticket == ticket
    assert ticket.messages.filter(body="Yes, it works now.").exists()


def test_a_made_up_thread_id_files_nothing_on_someone_elses_ticket(ticket, customer_user, customer):
    forged = f"<ticket-{ticket.pk}.0123456789abcdef@localhost>"
    assert ticket_pk_from_thread([forged]) is None
    raw = mail(customer_user.email, subject="Re: hello", body="Hi.", headers={"References": forged})
    outcome = ticket_ingest_email(raw=raw, now=NOW)
    assert outcome.ticket != ticket  # a new ticket of its own
    assert Ticket.objects.count() == 2


def test_a_ticket_filed_by_e_mail_threads_its_receipt_under_the_customers_message(
    customer_user, ticket_service, agent
):
    raw = mail(customer_user.email, message_id="<first@customer.test>")
    outcome = ticket_ingest_email(raw=raw, now=NOW)
    [receipt] = sent("ticket-receipt:")
    assert receipt.message_id == thread_root(outcome.ticket)
    assert receipt.headers["In-Reply-To"] == "<first@customer.test>"
    reply = ticket_reply(ticket=outcome.ticket, actor=agent, body="On it.", now=NOW)
    [told] = sent(f"ticket-reply:{reply.pk}:")
    assert told.headers["References"] == f"<first@customer.test> {thread_root(outcome.ticket)}"


def test_the_account_manager_opens_the_escalations_link_and_reads_only(
    client, ticket, agent, account_manager, customer
):
    from django.urls import reverse

    from tests.support.factories import ticket_contract
    from tickets.services import tickets_escalate

    customer.account_managers.add(account_manager)
    tickets_escalate(now=datetime(2026, 6, 8, 14, 1, tzinfo=ET))  # the response breached
    [breach] = [m for m in sent("ticket-escalation:") if m.to == [account_manager.email]]
    link = reverse("desk-ticket", args=[ticket.pk])
    assert link in breach.body
    client.force_login(account_manager)
    page = client.get(link)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Publishing fails" in text and "as the account manager of" in text
    assert "Send reply to customer" not in text and "Take ticket" not in text
    assert (
        client.post(reverse("desk-ticket-reply", args=[ticket.pk]), {"body": "x"}).status_code
        == 403
    )
    # Another customer's ticket is not theirs to read.
    other = CustomerUserFactory()
    theirs = ticket_file(
        actor=other,
        service=ticket_contract(other.customer).lines.first().service,
        subject="Elsewhere",
        description="Not yours.",
        severity=3,
        now=NOW,
    )
    assert client.get(reverse("desk-ticket", args=[theirs.pk])).status_code == 404
