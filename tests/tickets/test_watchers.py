"""Watchers (CC): a customer adds colleagues of their own organisation to a ticket, an
e-mail that CCs registered colleagues adds them too, and they get the public replies."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from outbox.models import OutboxMessage
from tests.support.factories import CustomerFactory, CustomerUserFactory
from tests.support.mail_helpers import mail
from tickets.services import ticket_file, ticket_ingest_email, ticket_reply, ticket_set_status

ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 8, 10, tzinfo=ET)


@pytest.fixture
def ticket(customer_user, ticket_service):
    return ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Publishing fails",
        description="Error 500.",
        severity=3,
        now=NOW,
    )


def watchers(ticket) -> list[str]:
    return sorted(ticket.watchers.values_list("email", flat=True))


def test_a_customer_adds_and_removes_a_colleague_on_the_ticket_page(
    client, ticket, customer, customer_user, agent
):
    colleague = CustomerUserFactory(customer=customer, first_name="Ada", last_name="Byron")
    client.force_login(customer_user)
    page = client.get(reverse("portal-ticket", args=[ticket.pk])).content.decode()
    assert "Who gets the replies" in page and "Ada Byron" in page  # offered
    url = reverse("portal-ticket-watchers", args=[ticket.pk])
    response = client.post(url, {"person": colleague.pk}, follow=True)
    assert "Ada Byron now gets the replies on this ticket." in response.content.decode()
    assert watchers(ticket) == [colleague.email]
    reply = ticket_reply(ticket=ticket, actor=agent, body="Fixed.", now=NOW)
    told = OutboxMessage.objects.filter(dedupe_key__startswith=f"ticket-reply:{reply.pk}:")
    assert sorted(m.to[0] for m in told) == sorted([customer_user.email, colleague.email])
    response = client.post(url, {"remove": colleague.pk}, follow=True)
    assert "no longer gets the replies" in response.content.decode()
    assert watchers(ticket) == []


def test_no_one_from_another_organisation_and_no_one_on_anothers_ticket(
    client, ticket, customer_user
):
    stranger = CustomerUserFactory(customer=CustomerFactory())
    client.force_login(customer_user)
    url = reverse("portal-ticket-watchers", args=[ticket.pk])
    response = client.post(url, {"person": stranger.pk}, follow=True)
    assert "Choose a colleague from your organisation." in response.content.decode()
    assert watchers(ticket) == []
    client.force_login(stranger)
    assert client.post(url, {"person": stranger.pk}).status_code == 404


def test_a_closed_ticket_takes_no_new_watchers(client, ticket, customer, customer_user, agent):
    colleague = CustomerUserFactory(customer=customer)
    ticket_set_status(ticket=ticket, status="closed", actor=agent, now=NOW)
    client.force_login(customer_user)
    url = reverse("portal-ticket-watchers", args=[ticket.pk])
    response = client.post(url, {"person": colleague.pk}, follow=True)
    assert "This ticket is closed." in response.content.decode()
    assert watchers(ticket) == []


def test_an_e_mail_that_ccs_registered_colleagues_adds_them(ticket, customer, customer_user):
    colleague = CustomerUserFactory(customer=customer)
    stranger = CustomerUserFactory(customer=CustomerFactory())
    raw = mail(
        customer_user.email,
        subject=f"Re: [{ticket.reference}] Publishing fails",
        body="Adding my colleagues.",
        headers={"Cc": f"{colleague.email}, {stranger.email}, someone@else.test"},
    )
    ticket_ingest_email(raw=raw, now=NOW)
    assert watchers(ticket) == [colleague.email]  # the registered colleague only
