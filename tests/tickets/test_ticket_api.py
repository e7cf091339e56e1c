"""The tickets REST API: filing and logging, tenancy (another customer's ticket, message
or file is a 404), and who may do what (403); bad input is refused with field errors and
saves nothing. The thread, downloads and lists: test_ticket_api_thread.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from tests.support.api_helpers import API, client_for
from tests.support.factories import StaffFactory, uploaded_file
from tests.support.ticket_api_helpers import (
    MB,
    NOW,
    counts,
    et,
    filed_ticket,
    foreign_ticket_of,
    stored_files,
)
from tickets.models import Ticket, TicketEvent
from tickets.services import ticket_reply


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


def new_ticket(**changes) -> dict:
    return {
        "subject": "Search is down",
        "description": "Every search returns an error.",
        "severity": 2,
        **changes,
    }


# ---------------------------------------------------------------- filing and logging


def test_a_customer_files_a_portal_ticket_received_now(customer_user, ticket_service):
    response = client_for(customer_user).post(
        f"{API}tickets/", new_ticket(service=ticket_service.pk), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["reference"] == ticket.reference == f"T-{ticket.pk:06d}"
    assert (body["channel"], body["status"], body["severity"]) == ("portal", "new", 2)
    assert body["customer"] == customer_user.customer_id
    assert body["received_at"] == "2026-06-08T14:00:00Z"
    assert body["response_due_at"] == "2026-06-08T18:00:00Z"  # 14:00 ET, 4 business hours
    assert body["resolution_due_at"] == "2026-06-10T14:00:00Z"
    assert (body["responded_at"], body["resolved_at"]) == (None, None)
    assert (body["response_breached"], body["resolution_breached"]) == (False, False)
    assert (body["response_state"], body["resolution_state"]) == ("on_track", "on_track")
    assert body["history"][0]["kind"] == "created"


def test_a_customer_files_with_attachments_in_multipart(customer_user, ticket_service, media):
    data = new_ticket(service=ticket_service.pk)
    data["attachments"] = [uploaded_file("a.log"), uploaded_file("b.png", content_type="image/png")]
    response = client_for(customer_user).post(f"{API}tickets/", data, format="multipart")
    assert response.status_code == 201, response.json()
    files = response.json()["attachments"]
    assert [(f["filename"], f["content_type"]) for f in files] == [
        ("a.log", "text/plain"),
        ("b.png", "image/png"),
    ]
    assert len(stored_files(media)) == 2


def test_a_customer_neither_backdates_nor_logs_phone_tickets(
    customer_user, ticket_service, other_customer
):
    data = new_ticket(
        service=ticket_service.pk,
        channel="phone",
        received_at="2026-06-08T09:00:00-04:00",
        customer=other_customer.pk,
    )
    response = client_for(customer_user).post(f"{API}tickets/", data, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"channel", "received_at", "customer"}
    assert counts() == (0, 0, 0)


def test_staff_log_a_phone_ticket_with_the_time_it_was_received(
    agent, customer, customer_user, ticket_service
):
    data = new_ticket(
        customer=customer.pk,
        service=ticket_service.pk,
        channel="phone",
        received_at="2026-06-08T08:00:00-04:00",  # two hours before it was typed in
        requester=customer_user.pk,
    )
    response = client_for(agent).post(f"{API}tickets/", data, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["channel"], body["requester"]) == ("phone", customer_user.pk)
    assert body["received_at"] == "2026-06-08T12:00:00Z"
    assert body["created_at"] == "2026-06-08T14:00:00Z"
    # The clock started when the call came in: 08:00 ET + 4 business hours.
    assert datetime.fromisoformat(body["response_due_at"]) == et(2026, 6, 8, 12)
    assert Ticket.objects.get().created_by == agent


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"subject": ""}, "subject", "Give the ticket a subject."),
        ({"subject": "   "}, "subject", "Give the ticket a subject."),
        ({"severity": 5}, "severity", "Choose a severity from 1 to 4."),
        ({"severity": "critical"}, "severity", "A valid integer is required."),
        ({"description": ""}, "description", "Describe the issue."),
        ({"service": None}, "service", "Choose the affected service."),
    ],
)
def test_bad_input_is_refused_with_field_errors_and_saves_nothing(
    customer_user, ticket_service, changes, field, message
):
    data = new_ticket(service=ticket_service.pk) | changes
    response = client_for(customer_user).post(f"{API}tickets/", data, format="json")
    assert response.status_code == 400
    assert response.json()[field] == [message]
    assert counts() == (0, 0, 0)


def test_a_time_received_in_the_future_is_refused(agent, customer, ticket_service):
    later = (NOW + timedelta(minutes=5)).isoformat()
    data = new_ticket(customer=customer.pk, service=ticket_service.pk, channel="email")
    response = client_for(agent).post(
        f"{API}tickets/", data | {"received_at": later}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["received_at"] == ["The time received cannot be in the future."]
    naive = client_for(agent).post(
        f"{API}tickets/", data | {"received_at": "2026-06-08T09:00:00"}, format="json"
    )
    assert naive.json()["received_at"] == ["Give a time with its time zone."]
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("name", "size", "error"),
    [
        ("huge.log", 10 * MB + 1, "huge.log is 10.0 MB; the limit is 10.0 MB."),
        ("tool.exe", 64, "tool.exe: .exe files are not accepted."),
    ],
)
def test_a_refused_attachment_saves_no_ticket_and_no_file(
    customer_user, ticket_service, media, name, size, error
):
    data = new_ticket(service=ticket_service.pk)
    data["attachments"] = [uploaded_file("fine.log"), uploaded_file(name, size=size)]
    response = client_for(customer_user).post(f"{API}tickets/", data, format="multipart")
    assert response.status_code == 400
    assert response.json()["attachments"][0].startswith(error)
    assert counts() == (0, 0, 0)
    assert stored_files(media) == []


# ---------------------------------------------------------------- tenancy


def test_a_customer_reads_only_their_organisation(customer_user, ticket, foreign_ticket):
    client = client_for(customer_user)
    listed = client.get(f"{API}tickets/").json()
    assert [row["id"] for row in listed["results"]] == [ticket.pk]
    other = foreign_ticket.customer_id
    assert client.get(f"{API}tickets/", {"customer": other}).json()["results"] == []
    assert client.get(f"{API}tickets/{ticket.pk}/").status_code == 200


def test_another_customers_ticket_message_and_file_are_404(customer_user, foreign_ticket, agent):
    reply = ticket_reply(
        ticket=foreign_ticket,
        actor=agent,
        body="Looking.",
        attachments=[uploaded_file("fix.txt")],
        now=NOW,
    )
    filed = foreign_ticket.attachments.get(message=None)
    on_reply = reply.attachments.get()
    client = client_for(customer_user)
    base = f"{API}tickets/{foreign_ticket.pk}/"
    before = counts()
    assert client.get(base).status_code == 404
    assert client.get(f"{base}messages/").status_code == 404
    assert client.post(f"{base}messages/", {"body": "Hi"}, format="json").status_code == 404
    assert client.patch(base, {"status": "resolved"}, format="json").status_code == 404
    reclassify = client.post(f"{base}reclassify/", {"severity": 1, "reason": "x"}, format="json")
    assert reclassify.status_code == 404
    assert client.get(f"{base}attachments/{filed.pk}/").status_code == 404
    assert client.get(f"{base}attachments/{on_reply.pk}/").status_code == 404
    assert counts() == before
    foreign_ticket.refresh_from_db()
    assert (foreign_ticket.status, foreign_ticket.severity) == ("open", 3)


def test_a_file_is_found_only_under_its_own_ticket(customer_user, ticket, foreign_ticket):
    foreign_file = foreign_ticket.attachments.get()
    url = f"{API}tickets/{ticket.pk}/attachments/{foreign_file.pk}/"
    assert client_for(customer_user).get(url).status_code == 404


def test_staff_without_a_support_role_see_no_tickets(operations, ticket):
    client = client_for(operations)
    assert client.get(f"{API}tickets/").json()["results"] == []
    assert client.get(f"{API}tickets/{ticket.pk}/").status_code == 404


def test_anonymous_callers_are_refused(ticket):
    client = client_for()
    assert client.get(f"{API}tickets/").status_code in (401, 403)
    assert client.post(f"{API}tickets/", new_ticket(), format="json").status_code in (401, 403)
    assert client.get(f"{API}tickets/{ticket.pk}/messages/").status_code in (401, 403)


# ---------------------------------------------------------------- who may do what


def test_a_customer_cannot_post_an_internal_note(customer_user, ticket):
    before = counts()
    response = client_for(customer_user).post(
        f"{API}tickets/{ticket.pk}/messages/", {"body": "psst", "public": False}, format="json"
    )
    assert response.status_code == 403
    assert counts() == before


def test_a_customer_cannot_reclassify(customer_user, ticket):
    response = client_for(customer_user).post(
        f"{API}tickets/{ticket.pk}/reclassify/", {"severity": 1, "reason": "Urgent!"}, format="json"
    )
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.severity == 2
    assert not ticket.events.filter(kind=TicketEvent.Kind.RECLASSIFIED).exists()


def test_staff_reclassify_with_a_reason_kept_in_the_history(agent, ticket):
    client = client_for(agent)
    url = f"{API}tickets/{ticket.pk}/reclassify/"
    missing = client.post(url, {"severity": 1}, format="json")
    assert missing.status_code == 400
    assert missing.json() == {"reason": ["Give the reason for the new severity."]}
    response = client.post(url, {"severity": 1, "reason": "Nobody can publish."}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["severity"] == 1
    assert body["history"][-1] | {"actor": None} == {
        "kind": "reclassified",
        "actor": None,
        "created_at": "2026-06-08T14:00:00Z",
        "from_status": "",
        "to_status": "",
        "from_severity": 2,
        "to_severity": 1,
        "assignee": None,
        "reason": "Nobody can publish.",
    }
    # Measured again from receipt under severity 1: 30 minutes, around the clock.
    assert body["response_due_at"] == "2026-06-08T14:30:00Z"


def test_a_customer_may_resolve_and_reopen_but_not_close_or_assign(customer_user, agent, ticket):
    client = client_for(customer_user)
    url = f"{API}tickets/{ticket.pk}/"
    assert client.patch(url, {"status": "closed"}, format="json").status_code == 403
    assert client.patch(url, {"assignee": agent.pk}, format="json").status_code == 403
    resolved = client.patch(url, {"status": "resolved"}, format="json")
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] == "2026-06-08T14:00:00Z"
    reopened = client.patch(url, {"status": "open"}, format="json")
    assert (reopened.json()["status"], reopened.json()["resolved_at"]) == ("open", None)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_staff_assign_and_set_the_status_in_one_patch(agent, ticket):
    other_agent = StaffFactory(role="agent")
    response = client_for(agent).patch(
        f"{API}tickets/{ticket.pk}/",
        {"assignee": other_agent.pk, "status": "waiting_on_customer"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["assignee"], body["status"]) == (other_agent.pk, "waiting_on_customer")
    assert (body["response_state"], body["resolution_state"]) == ("paused", "paused")


def test_a_patch_changes_only_status_and_assignee(agent, ticket):
    client = client_for(agent)
    url = f"{API}tickets/{ticket.pk}/"
    response = client.patch(url, {"severity": 1, "subject": "New"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"severity", "subject"}
    assert client.patch(url, {}, format="json").status_code == 400
    assert client.patch(url, {"status": "open"}, format="json").status_code == 200
    refused = client.patch(url, {"status": "new"}, format="json")
    assert refused.json() == {"status": ["A ticket cannot go back to new."]}
