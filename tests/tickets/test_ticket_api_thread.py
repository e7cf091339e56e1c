"""The tickets REST API's thread (internal notes kept from customers, replies and their
files, closed tickets), downloads, filters, and list queries that do not grow with the
page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.api_helpers import API, client_for
from tests.support.factories import TicketFactory, uploaded_file
from tests.support.ticket_api_helpers import (
    NOW,
    counts,
    filed_ticket,
    foreign_ticket_of,
    stored_files,
)
from tickets.models import Attachment, Ticket
from tickets.services import ticket_reply, ticket_set_status


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def ticket(customer_user, ticket_service) -> Ticket:
    return filed_ticket(customer_user, ticket_service)


@pytest.fixture
def foreign_ticket(other_customer, tiered_contract) -> Ticket:
    return foreign_ticket_of(other_customer)


# ---------------------------------------------------------------- the thread


def test_internal_notes_never_reach_customers(customer_user, agent, ticket):
    staff = client_for(agent)
    note = staff.post(
        f"{API}tickets/{ticket.pk}/messages/",
        {
            "body": "SECRET: customer is on the old cluster",
            "public": "false",
            "attachments": [uploaded_file("internal.log")],
        },
        format="multipart",
    )
    assert note.status_code == 201, note.json()
    assert note.json()["public"] is False
    staff.post(f"{API}tickets/{ticket.pk}/messages/", {"body": "We are on it."}, format="json")
    note_file = Attachment.objects.get(filename="internal.log")

    client = client_for(customer_user)
    thread = client.get(f"{API}tickets/{ticket.pk}/messages/")
    assert [m["body"] for m in thread.json()["results"]] == ["We are on it."]
    for response in (
        thread,
        client.get(f"{API}tickets/{ticket.pk}/"),
        client.get(f"{API}tickets/"),
    ):
        assert "SECRET" not in response.content.decode()
        assert "internal.log" not in response.content.decode()
    url = f"{API}tickets/{ticket.pk}/attachments/{note_file.pk}/"
    assert client.get(url).status_code == 404
    assert staff.get(url).status_code == 200
    assert len(staff.get(f"{API}tickets/{ticket.pk}/messages/").json()["results"]) == 2


def test_a_customer_reply_in_multipart_is_public(customer_user, ticket):
    response = client_for(customer_user).post(
        f"{API}tickets/{ticket.pk}/messages/",
        {"body": "Screenshot attached.", "attachments": [uploaded_file("shot.png")]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["public"], body["from_staff"], body["channel"]) == (True, False, "portal")
    assert [f["filename"] for f in body["attachments"]] == ["shot.png"]


def test_a_reply_to_a_closed_ticket_is_refused_with_a_clear_message(customer_user, agent, ticket):
    ticket_set_status(ticket=ticket, status="closed", actor=agent, now=NOW)
    before = counts()
    response = client_for(customer_user).post(
        f"{API}tickets/{ticket.pk}/messages/", {"body": "One more thing"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "This ticket is closed and takes no more replies; file a new ticket instead."
        ]
    }
    assert counts() == before


def test_a_reply_with_a_refused_file_saves_nothing(customer_user, ticket, media):
    before, files = counts(), stored_files(media)
    response = client_for(customer_user).post(
        f"{API}tickets/{ticket.pk}/messages/",
        {"body": "Here", "attachments": [uploaded_file("x.exe")]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "x.exe: .exe files are not accepted" in response.json()["attachments"][0]
    empty = client_for(customer_user).post(
        f"{API}tickets/{ticket.pk}/messages/", {"body": " "}, format="json"
    )
    assert empty.json() == {"body": ["Write a message."]}
    assert (counts(), stored_files(media)) == (before, files)


def test_the_first_public_staff_reply_shows_the_response_met(customer_user, agent, ticket):
    client_for(agent).post(f"{API}tickets/{ticket.pk}/messages/", {"body": "On it"}, format="json")
    body = client_for(customer_user).get(f"{API}tickets/{ticket.pk}/").json()
    assert (body["status"], body["responded_at"]) == ("open", "2026-06-08T14:00:00Z")
    assert body["response_state"] == "met"


# ---------------------------------------------------------------- downloads


def test_a_download_is_an_attachment_never_sniffed(customer_user, ticket):
    filed = ticket.attachments.get()
    response = client_for(customer_user).get(
        f"{API}tickets/{ticket.pk}/attachments/{filed.pk}/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == 'attachment; filename="trace.log"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"x" * 64


def test_the_schema_says_a_download_comes_in_the_type_it_was_uploaded_with():
    # It documented application/octet-stream, which no download of a text file matched.
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    download = schema["paths"]["/api/v1/tickets/{id}/attachments/{aid}/"]["get"]
    assert list(download["responses"]["200"]["content"]) == ["*/*"]


# ---------------------------------------------------------------- lists


def test_staff_filter_the_list(agent, customer, tiered_contract, foreign_ticket):
    contract = tiered_contract
    breached = TicketFactory(contract=contract, severity=1, response_breached=True)
    mine = TicketFactory(contract=contract, severity=2, assignee=agent, status="open")
    late = TicketFactory(contract=contract, received_at=NOW, created_at=NOW + timedelta(hours=1))
    client = client_for(agent)

    def ids(**params) -> set[int]:
        return {row["id"] for row in client.get(f"{API}tickets/", params).json()["results"]}

    assert ids(breached="true") == {breached.pk}
    assert foreign_ticket.pk in ids(breached="false")
    assert ids(severity=2) == {mine.pk}
    assert ids(assignee=agent.pk) == {mine.pk}
    assert ids(customer=customer.pk) == {breached.pk, mine.pk, late.pk}
    assert ids(status=["open", "new"], customer=customer.pk) == {breached.pk, mine.pk, late.pk}
    assert ids(status="open") == {mine.pk}
    assert ids(status="new", breached="false") == {late.pk, foreign_ticket.pk}
    assert ids(created_after="2026-06-08T14:30:00Z") == {late.pk}
    assert late.pk not in ids(created_before="2026-06-08T14:30:00Z")
    assert ids(service=foreign_ticket.service_id) == {foreign_ticket.pk}


def test_list_queries_do_not_grow_with_the_page_size(agent, customer_user, tiered_contract):
    for n in range(12):
        ticket = TicketFactory(contract=tiered_contract, assignee=agent if n % 2 else None)
        Attachment.objects.create(
            ticket=ticket,
            file=f"tickets/{ticket.pk}/a.log",
            filename="a.log",
            content_type="text/plain",
            size=1,
            created_at=NOW,
        )

    def queries(user, size: int) -> int:
        client = client_for(user)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{API}tickets/", {"page_size": size})
        assert len(response.json()["results"]) == size
        return len(captured)

    for user in (agent, customer_user):
        assert queries(user, 2) == queries(user, 12)
    assert queries(agent, 12) <= 7  # session, user, roles, count, page, files


def test_thread_queries_do_not_grow_with_the_page_size(agent, ticket):
    for n in range(6):
        ticket_reply(
            ticket=ticket,
            actor=agent,
            body=f"Note {n}",
            public=bool(n % 2),
            now=NOW,
            attachments=[uploaded_file(f"{n}.log")],
        )
    client = client_for(agent)
    counts_by_size = []
    for size in (1, 6):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{API}tickets/{ticket.pk}/messages/", {"page_size": size})
        assert len(response.json()["results"]) == size
        counts_by_size.append(len(captured))
    assert counts_by_size[0] == counts_by_size[1]
