"""The customer's ticket pages through the Django test client: filing (the contract's
severities, the data-access notice, attachments), the list and its filters, a ticket's
page (due times in the person's zone, reply, resolve, reopen, downloads); bad input
saves nothing; another customer's ticket or file is a 404; internal notes stay inside;
the desk is closed to customers. The desk itself: test_ticket_desk_pages.py."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.support.factories import (
    CustomerFactory,
    CustomerUserFactory,
    ticket_contract,
    uploaded_file,
)
from tickets.models import Attachment, Ticket, TicketMessage
from tickets.services import ticket_file, ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db

ET = ZoneInfo("America/New_York")
NOTICE = "authorizing the Heretto technical support team"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def person(customer_user, tiered_contract):
    customer_user.first_name, customer_user.last_name = "Nina", "Northwind"
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
    return _file(person, ticket_service, attachments=[uploaded_file("trace.log")])


@pytest.fixture
def foreign(catalog):
    """Another organisation's ticket with a file."""
    other = CustomerFactory()
    contract = ticket_contract(other, reference="OTHER-1")
    return _file(
        CustomerUserFactory(customer=other),
        contract.lines.first().service,
        subject="Their secret",
        attachments=[uploaded_file("theirs.log")],
    )


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _new(service, overrides=()):
    data = {"subject": "Editor will not load", "service": service.pk, "severity": "2"}
    return {**data, "description": "Since 9am.", **dict(overrides)}


# ---------------------------------------------------------------- filing


def test_the_form_shows_the_contracts_severities_the_types_and_the_data_access_notice(portal):
    html = _text(portal.get(reverse("portal-ticket-new")))
    assert "Severity 1 · Product unusable or data loss" in html
    assert "Customer is prevented from executing one or more critical" in html
    assert "First response within 4 hours · resolution within 2 business days · in support" in html
    assert "First response within 30 minutes · resolution within 8 hours · around the" in html
    assert "within 48 hours · no resolution target" in html
    assert "10 MB each" in html and ".pdf" in html and ".png" in html
    assert NOTICE in html


def test_no_notice_when_the_policy_has_none(client, catalog):
    customer = CustomerFactory()
    ticket_contract(customer, policy_code="balto-uptime")
    client.force_login(CustomerUserFactory(customer=customer))
    html = _text(client.get(reverse("portal-ticket-new")))
    assert "Severity 1 · Major Impact" in html and NOTICE not in html


def test_a_customer_files_a_ticket_with_an_attachment_and_sees_its_due_times(
    portal, ticket_service, media
):
    data = _new(ticket_service, {"attachments": [uploaded_file("screen.png", 2048, "image/png")]})
    response = portal.post(reverse("portal-ticket-new"), data, follow=True)
    ticket = Ticket.objects.get()
    assert response.redirect_chain[-1][0] == reverse("portal-ticket", args=[ticket.pk])
    assert (ticket.severity, ticket.channel, ticket.service) == (2, "portal", ticket_service)
    [attachment] = ticket.attachments.all()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "screen.png",
        "image/png",
        2048,
    )
    html = _text(response)
    assert f"Ticket {ticket.reference} filed" in html
    due = ticket.response_due_at.astimezone(ET)
    assert f'data-testid="response-due"> <time datetime="{due.isoformat()}">' in html
    assert f"{due:%-d %b %Y, %H:%M} E" in html  # EST/EDT: the person's own zone
    assert "Times in America/New_York" in html
    assert 'data-testid="response-state">On track<' in html or "At risk" in html
    assert "screen.png" in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"subject": "  "}, "Give the ticket a subject."),
        ({"severity": "7"}, "Choose a severity from 1 to 4."),
        ({"severity": ""}, "Choose a severity from 1 to 4."),
        ({"description": ""}, "Describe the issue."),
        ({"service": ""}, "Choose the affected service."),
        (
            {"attachments": [uploaded_file("huge.log", 10 * 1024 * 1024 + 1)]},
            "huge.log is 10.0 MB; the limit is 10.0 MB.",
        ),
        (
            {"attachments": [uploaded_file("setup.exe", 10, "application/x-msdownload")]},
            "setup.exe: .exe files are not accepted.",
        ),
    ],
)
def test_bad_input_shows_a_message_and_saves_nothing(
    portal, ticket_service, media, overrides, message
):
    response = portal.post(reverse("portal-ticket-new"), _new(ticket_service, overrides))
    assert response.status_code == 200
    assert message in _text(response)
    assert "Please correct the highlighted fields below." in _text(response)
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


# ---------------------------------------------------------------- the customer's ticket


def test_the_list_shows_the_organisations_tickets_with_their_clock_states(portal, ticket, foreign):
    html = _text(portal.get(reverse("portal-tickets")))
    assert "Publishing fails" in html and "Their secret" not in html
    assert ticket.reference in html and "Severity 2" in html
    assert re.search(r'badge--(primary|warning)">(On track|At risk)<', html)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Sev 4 closed", "Sev 1 open", "Publishing fails"]),
        ({"state": "open"}, ["Sev 1 open", "Publishing fails"]),
        ({"state": "closed"}, ["Sev 4 closed"]),
        ({"status": "resolved"}, []),
        ({"severity": "1"}, ["Sev 1 open"]),
        ({"q": "publishing"}, ["Publishing fails"]),
    ],
)
def test_the_list_filters(portal, person, ticket_service, ticket, agent, query, expected):
    _file(person, ticket_service, severity=1, subject="Sev 1 open")
    closed = _file(person, ticket_service, severity=4, subject="Sev 4 closed")
    ticket_set_status(ticket=closed, status="closed", actor=agent)
    html = portal.get(reverse("portal-tickets"), query).content.decode()
    subjects = re.findall(r'<a href="/portal/tickets/\d+/">([^<]+)</a>', html)
    assert subjects == expected
    if not expected:
        assert "No tickets match these filters." in html


def test_the_list_finds_a_ticket_by_reference_and_explains_an_empty_list(portal, ticket):
    html = portal.get(reverse("portal-tickets"), {"q": ticket.reference}).content.decode()
    assert "Publishing fails" in html
    Ticket.objects.all().delete()
    assert "No tickets yet." in portal.get(reverse("portal-tickets")).content.decode()


def test_the_customer_replies_with_a_file_resolves_and_reopens(portal, ticket):
    url = reverse("portal-ticket-reply", args=[ticket.pk])
    data = {"body": "Still failing.", "attachments": [uploaded_file("more.txt")]}
    assert portal.post(url, data).status_code == 302
    message = TicketMessage.objects.get()
    assert (message.body, message.attachments.get().filename) == ("Still failing.", "more.txt")
    status = reverse("portal-ticket-status", args=[ticket.pk])
    portal.post(status, {"status": "resolved"})
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    html = _text(portal.get(reverse("portal-ticket", args=[ticket.pk])))
    assert "Reopen ticket" in html and 'data-testid="resolution-state">Met<' in html
    portal.post(status, {"status": "open"})
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert portal.post(status, {"status": "closed"}).status_code == 403


def test_a_reply_to_a_closed_ticket_is_refused_and_saves_nothing(portal, ticket, agent):
    ticket_set_status(ticket=ticket, status="closed", actor=agent)
    url = reverse("portal-ticket-reply", args=[ticket.pk])
    response = portal.post(url, {"body": "Hello?", "attachments": [uploaded_file()]})
    assert response.status_code == 200
    assert "takes no more replies; file a new ticket instead." in _text(response)
    assert not TicketMessage.objects.exists()
    assert ticket.attachments.count() == 1  # the one filed with it


def test_attachments_download_as_files_never_inline(portal, ticket):
    attachment = ticket.attachments.get()
    response = portal.get(reverse("portal-ticket-file", args=[ticket.pk, attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="trace.log"'
    assert response["Content-Type"] == "text/plain"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"x" * 64


def test_another_customers_ticket_and_files_are_a_404(portal, ticket, foreign):
    theirs = foreign.attachments.get()
    mine = ticket.attachments.get()
    for url in [
        reverse("portal-ticket", args=[foreign.pk]),
        reverse("portal-ticket-file", args=[foreign.pk, theirs.pk]),
        reverse("portal-ticket-file", args=[ticket.pk, theirs.pk]),  # their file via our ticket
    ]:
        assert portal.get(url).status_code == 404, url
    for name, data in [
        ("portal-ticket-reply", {"body": "x"}),
        ("portal-ticket-status", {"status": "resolved"}),
    ]:
        assert portal.post(reverse(name, args=[foreign.pk]), data).status_code == 404
    assert portal.get(reverse("portal-ticket-file", args=[ticket.pk, mine.pk])).status_code == 200
    assert not foreign.messages.exists() and Ticket.objects.get(pk=foreign.pk).status == "new"


def test_internal_notes_and_their_files_never_reach_the_customer(
    portal, desk, ticket, agent, person
):
    ticket_reply(
        ticket=ticket,
        actor=agent,
        body="Customer is on old build",
        public=False,
        attachments=[uploaded_file("internal.log")],
    )
    note_file = Attachment.objects.get(filename="internal.log")
    staff_html = desk.get(reverse("desk-ticket", args=[ticket.pk])).content.decode()
    assert "Customer is on old build" in staff_html and "post--internal" in staff_html
    html = portal.get(reverse("portal-ticket", args=[ticket.pk])).content.decode()
    assert "Customer is on old build" not in html and "internal.log" not in html
    assert (
        portal.get(reverse("portal-ticket-file", args=[ticket.pk, note_file.pk])).status_code == 404
    )


# ---------------------------------------------------------------- who may open the desk


def test_customers_cannot_write_notes_or_reclassify_and_the_desk_is_closed_to_them(
    portal, ticket, account_manager, client
):
    posts = [
        ("desk-ticket-reply", {"body": "sneaky", "kind": "internal"}),
        ("desk-ticket-reclassify", {"severity": "1", "reason": "urgent!"}),
        ("desk-ticket-status", {"status": "closed"}),
        ("desk-ticket-take", {}),
    ]
    for name, data in posts:
        assert portal.post(reverse(name, args=[ticket.pk]), data).status_code == 403
    assert portal.get(reverse("desk-home")).status_code == 403
    assert portal.get(reverse("desk-ticket", args=[ticket.pk])).status_code == 403
    ticket.refresh_from_db()
    assert (ticket.severity, ticket.messages.count()) == (2, 0)
    client.force_login(account_manager)
    assert client.get(reverse("desk-home")).status_code == 403
    client.logout()
    assert client.get(reverse("portal-tickets")).status_code == 302  # to the login page


def test_without_a_contract_in_force_the_pages_say_whom_to_ask(client, customer_user):
    client.force_login(customer_user)
    assert "has no contract with support in force today" in _text(
        client.get(reverse("portal-ticket-new"))
    )
    html = _text(client.get(reverse("portal-tickets")))
    assert "No tickets yet." in html and "contact your account manager" in html
    assert "File a ticket" not in html
