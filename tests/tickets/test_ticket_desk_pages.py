"""The support desk through the Django test client: the queue (nearest deadline first,
filters, pages with a fixed number of queries), a ticket's page (take, reply, status,
assignment, reclassification with its reason and history) and logging a phone ticket
with the time it was received (never in the future)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.support.factories import CustomerFactory, CustomerUserFactory, ticket_contract
from tickets.models import Ticket, TicketEvent
from tickets.services import ticket_file, ticket_from_unregistered_sender, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def person(customer_user, tiered_contract):
    customer_user.time_zone = "America/New_York"
    customer_user.save()
    return customer_user


def _file(person, service, severity=2, subject="Publishing fails", **kw) -> Ticket:
    return ticket_file(
        actor=person,
        service=service,
        subject=subject,
        description="Error 500.",
        severity=severity,
        **kw,
    )


@pytest.fixture
def ticket(person, ticket_service):
    return _file(person, ticket_service)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# ---------------------------------------------------------------- the desk


@pytest.fixture
def queue(person, ticket_service, catalog):
    """Tickets whose nearest deadlines differ: one long breached, S1 (30 min), S3, and one
    under a contract with no targets (last)."""
    now = timezone.now()
    late = _file(
        person, ticket_service, severity=3, subject="Late one", now=now - timedelta(days=9)
    )
    s1 = _file(person, ticket_service, severity=1, subject="Everything down")
    s3 = _file(person, ticket_service, severity=3, subject="Slow exports")
    other = CustomerFactory(name="Zeta")
    contract = ticket_contract(other, policy_code="balto-uptime", reference="ZETA-1")
    zeta = _file(
        CustomerUserFactory(customer=other), contract.lines.first().service, subject="No target"
    )
    return late, s1, s3, zeta


def _queue(desk, **query) -> list[str]:
    html = desk.get(reverse("desk-home"), query).content.decode()
    return re.findall(r'<a href="/desk/tickets/\d+/">([^<]+)</a>', html)


def test_the_queue_puts_the_nearest_deadline_first(desk, queue):
    assert _queue(desk) == ["Late one", "Everything down", "Slow exports", "No target"]


def test_the_queue_does_not_list_every_customer_in_a_select(desk, queue):
    html = desk.get(reverse("desk-home")).content.decode()
    assert 'type="search" name="customer"' in html
    assert "<option" not in html.split('name="customer"')[1].split("</div>")[0]


def test_the_queue_filters(desk, queue, agent):
    late, s1, s3, zeta = queue
    desk.post(reverse("desk-ticket-take", args=[s3.pk]))
    assert _queue(desk, severity="1") == ["Everything down"]
    assert _queue(desk, customer=zeta.customer_id) == ["No target"]
    assert _queue(desk, customer=" zet ") == ["No target"]  # part of the name, any case
    assert _queue(desk, customer="Nobody by that name") == []
    assert _queue(desk, assignee="me") == ["Slow exports"]
    assert _queue(desk, assignee="none") == ["Late one", "Everything down", "No target"]
    assert _queue(desk, breached="on") == ["Late one"]
    assert _queue(desk, status="open") == ["Slow exports"]  # taking it opened it
    assert _queue(desk, service=zeta.service_id) == ["No target"]
    ticket_set_status(ticket=late, status="closed", actor=agent)
    assert _queue(desk, status="closed") == ["Late one"]
    assert "Late one" not in _queue(desk)


def test_the_queue_pages_by_25_with_a_fixed_number_of_queries(desk, person, ticket_service):
    for n in range(3):
        _file(person, ticket_service, subject=f"T{n}")
    with CaptureQueriesContext(connection) as few:
        desk.get(reverse("desk-home"))
    for n in range(27):
        _file(person, ticket_service, subject=f"U{n}")
    with CaptureQueriesContext(connection) as many:
        html = desk.get(reverse("desk-home"), {"severity": "2"}).content.decode()
    assert len(many) == len(few)
    assert "30 in all" in html and "severity=2&amp;after=" in html
    assert "severity=2&amp;before=end" in html  # the last page, one click away


def test_an_agent_takes_replies_and_the_response_is_met(desk, portal, ticket, agent, person):
    url = reverse("desk-ticket", args=[ticket.pk])
    assert "Publishing fails" in desk.get(url).content.decode()
    desk.post(reverse("desk-ticket-take", args=[ticket.pk]))
    desk.post(
        reverse("desk-ticket-reply", args=[ticket.pk]), {"body": "Looking now.", "kind": "public"}
    )
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status, ticket.responded_at is not None) == (
        agent,
        "open",
        True,
    )
    html = _text(desk.get(url))
    assert 'data-testid="response-state">Met<' in html and "Assigned to Sam Support" in html
    html = _text(portal.get(reverse("portal-ticket", args=[ticket.pk])))
    assert "Looking now." in html and 'data-testid="response-state">Met<' in html


def test_reclassifying_needs_a_reason_and_is_kept_in_the_history(desk, ticket):
    url = reverse("desk-ticket-reclassify", args=[ticket.pk])
    response = desk.post(url, {"severity": "1", "reason": ""})
    assert "Give the reason for the new severity." in _text(response)
    ticket.refresh_from_db()
    assert ticket.severity == 2 and not ticket.events.filter(kind="reclassified").exists()
    desk.post(url, {"severity": "1", "reason": "Whole site down"})
    ticket.refresh_from_db()
    assert ticket.severity == 1
    html = _text(desk.get(reverse("desk-ticket", args=[ticket.pk])))
    assert "Severity 2 → 1" in html and "“Whole site down”" in html


def test_status_changes_and_assignment_from_the_desk(desk, ticket, agent):
    desk.post(reverse("desk-ticket-status", args=[ticket.pk]), {"status": "waiting_on_customer"})
    ticket.refresh_from_db()
    assert ticket.status == "waiting_on_customer"
    assert "Paused" in _text(desk.get(reverse("desk-ticket", args=[ticket.pk])))
    response = desk.post(reverse("desk-ticket-status", args=[ticket.pk]), {"status": "new"})
    assert "Select a valid choice" in _text(response)
    desk.post(reverse("desk-ticket-assign", args=[ticket.pk]), {"assignee": agent.pk})
    desk.post(reverse("desk-ticket-assign", args=[ticket.pk]), {"assignee": ""})
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == ["created", "status_changed", "assigned", "assigned"]
    assert TicketEvent.objects.filter(kind="assigned", assignee=None).exists()


def _log(customer, service, **overrides):
    data = {
        "customer": customer.pk,
        "service": service.pk,
        "channel": "phone",
        "received_at": "2026-06-08T09:30",  # the agent's zone: Europe/London, BST
        "severity": "3",
        "subject": "Called about exports",
        "description": "Exports time out.",
        "sender_email": "caller@example.test",
    }
    data.update(overrides)
    return data


def test_an_agent_logs_a_phone_ticket_with_the_time_it_was_received(desk, ticket_service, customer):
    response = desk.post(reverse("desk-ticket-new"), _log(customer, ticket_service), follow=True)
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.received_at) == (
        "phone",
        datetime(2026, 6, 8, 8, 30, tzinfo=UTC),
    )
    assert ticket.sender_email == "caller@example.test"
    assert f"Ticket {ticket.reference} logged" in _text(response)


def test_the_log_form_finds_the_customer_by_name_and_the_requester_by_email(
    desk, ticket_service, customer
):
    page = desk.get(reverse("desk-ticket-new")).content.decode()
    assert "<option" not in page.split('name="customer"')[1].split("</div>")[0]
    person = CustomerUserFactory(customer=customer, email="pat.caller@example.test")
    data = _log(customer, ticket_service, requester="PAT.caller@example.test", sender_email="")
    data["customer"] = f"  {customer.name.upper()} "
    desk.post(reverse("desk-ticket-new"), data)
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.requester) == (customer, person)


def test_the_log_form_explains_an_unknown_or_ambiguous_customer_and_requester(
    desk, ticket_service, customer
):
    CustomerFactory(name="Acme East")
    CustomerFactory(name="Acme West")
    cases = [
        ({"customer": "Acme"}, "Several customers match “Acme” (Acme East, Acme West…)"),
        ({"customer": "Nobody Inc"}, "No active customer matches “Nobody Inc”."),
        ({"requester": "nobody@example.test"}, "No registered customer person has this e-mail."),
    ]
    for overrides, message in cases:
        data = {**_log(customer, ticket_service), **overrides}
        response = desk.post(reverse("desk-ticket-new"), data)
        assert response.status_code == 200
        assert message in _text(response)
    assert not Ticket.objects.exists()


def test_a_received_time_in_the_future_is_refused(desk, ticket_service, customer):
    future = (timezone.now() + timedelta(hours=2)).astimezone(ZoneInfo("Europe/London"))
    data = _log(customer, ticket_service, received_at=future.strftime("%Y-%m-%dT%H:%M"))
    response = desk.post(reverse("desk-ticket-new"), data)
    assert "The time received cannot be in the future." in _text(response)
    assert not Ticket.objects.exists()


def test_a_ticket_from_an_unregistered_sender_opens_with_no_targets(desk):
    ticket = ticket_from_unregistered_sender(
        sender_email="stranger@example.test", subject="Who do I ask?", description="Hello."
    )
    html = _text(desk.get(reverse("desk-ticket", args=[ticket.pk])))
    assert "Unregistered sender" in html and "stranger@example.test" in html
    assert 'data-testid="response-state">No target<' in html
    assert "No contract: no targets apply." in html
    assert "Who do I ask?" in _text(desk.get(reverse("desk-home")))
