"""A phone or e-mail ticket the desk logs for a caller who is not a registered person of
the customer gets the SLA's unregistered-sender rule, as inbound mail from an unknown
address does: the policy's severity for it (4 in the catalog) and the unregistered flag,
whatever severity the agent chose; the desk says so after saving, and the API agrees
(both call ``tickets.services.ticket_log``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.support.api_helpers import API, client_for
from tests.support.factories import CustomerFactory, CustomerUserFactory
from tickets.models import Ticket
from tickets.services import ticket_log

pytestmark = pytest.mark.django_db

# Monday 8 June 2026, 10:00 in New York: the help desk (tiered catalog policy) is open.
NOW = datetime(2026, 6, 8, 14, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _log(agent, customer, service, **kw) -> Ticket:
    fields = {
        "actor": agent,
        "customer": customer,
        "service": service,
        "subject": "Called about exports",
        "description": "Exports time out.",
        "severity": 2,
        "channel": "phone",
        "received_at": NOW - timedelta(minutes=30),
        "now": NOW,
    }
    return ticket_log(**(fields | kw))


def test_a_caller_who_is_not_registered_gets_severity_4_and_the_flag(
    agent, customer, ticket_service
):
    ticket = _log(agent, customer, ticket_service, sender_email="stranger@example.test")
    assert (ticket.severity, ticket.unregistered_sender) == (4, True)
    assert (ticket.requester, ticket.sender_email) == (None, "stranger@example.test")
    assert ticket.notify_address == "stranger@example.test"
    assert ticket.response_target is not None  # the contract's severity 4 targets run


def test_a_registered_person_keeps_the_severity_the_agent_chose(
    agent, customer, customer_user, ticket_service
):
    ticket = _log(agent, customer, ticket_service, requester=customer_user)
    assert (ticket.severity, ticket.unregistered_sender, ticket.requester) == (
        2,
        False,
        customer_user,
    )


def test_a_caller_s_address_that_is_a_registered_person_s_makes_them_the_requester(
    agent, customer, ticket_service
):
    person = CustomerUserFactory(customer=customer, email="pat@acme.test")
    ticket = _log(agent, customer, ticket_service, sender_email="PAT@acme.test")
    assert (ticket.severity, ticket.unregistered_sender, ticket.requester) == (2, False, person)


@pytest.mark.parametrize("who", ["another customer's person", "a deactivated person"])
def test_a_person_of_another_customer_or_no_longer_active_is_unregistered(
    agent, customer, ticket_service, who
):
    if who == "a deactivated person":
        CustomerUserFactory(customer=customer, email="pat@acme.test", is_active=False)
    else:
        CustomerUserFactory(customer=CustomerFactory(), email="pat@acme.test")
    ticket = _log(agent, customer, ticket_service, sender_email="pat@acme.test")
    assert (ticket.severity, ticket.unregistered_sender, ticket.requester) == (4, True, None)


def test_an_unregistered_caller_needs_an_address_and_no_severity(agent, customer, ticket_service):
    with pytest.raises(ValidationError) as refused:
        _log(agent, customer, ticket_service, severity="")
    assert refused.value.message_dict == {
        "sender_email": [
            "Give the caller's e-mail: they are not a registered person of the customer."
        ]
    }
    assert not Ticket.objects.exists()
    # The SLA sets the severity: the agent need not choose one.
    ticket = _log(agent, customer, ticket_service, severity="", sender_email="x@example.test")
    assert ticket.severity == 4


def test_the_desk_logs_it_and_says_why_it_is_severity_4(desk, customer, ticket_service):
    data = {
        "customer": customer.name,
        "service": ticket_service.pk,
        "channel": "phone",
        "received_at": "2026-06-08T14:45",  # the agent's zone: Europe/London, BST
        "severity": "1",
        "subject": "Everything is down",
        "description": "The caller cannot log in.",
        "sender_email": "stranger@example.test",
    }
    response = desk.post(reverse("desk-ticket-new"), data, follow=True)
    ticket = Ticket.objects.get()
    assert (ticket.severity, ticket.unregistered_sender) == (4, True)
    page = re.sub(r"\s+", " ", response.content.decode())
    assert f"Ticket {ticket.reference} logged for {customer.name}." in page
    assert (
        f"The caller is not a registered person of {customer.name}, so the SLA makes this "
        "Severity 4 and marks the ticket unregistered." in page
    )
    assert 'class="message message--warning" role="status"' in page


def test_the_desk_says_nothing_of_it_for_a_registered_requester(
    desk, customer, customer_user, ticket_service
):
    data = {
        "customer": customer.pk,
        "service": ticket_service.pk,
        "channel": "phone",
        "received_at": "2026-06-08T14:45",
        "severity": "1",
        "subject": "Everything is down",
        "description": "Nobody can log in.",
        "requester": customer_user.email,
    }
    page = desk.post(reverse("desk-ticket-new"), data, follow=True).content.decode()
    assert Ticket.objects.get().severity == 1
    assert "not a registered person" not in page


def test_the_api_applies_the_same_rule(agent, customer, ticket_service):
    body = {
        "customer": customer.pk,
        "service": ticket_service.pk,
        "channel": "email",
        "received_at": "2026-06-08T09:00:00-04:00",
        "severity": 1,
        "subject": "Search is down",
        "description": "Every search returns an error.",
        "sender_email": "stranger@example.test",
    }
    response = client_for(agent).post(f"{API}tickets/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["severity"] == 4
    assert Ticket.objects.get().unregistered_sender is True
