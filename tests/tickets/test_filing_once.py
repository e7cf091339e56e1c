"""Filing safely repeated: Back + Send on the portal form, or an API retry with the same
Idempotency-Key, files one ticket."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests.support.api_helpers import api_token_for
from tickets.models import Ticket

ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 8, 10, tzinfo=ET)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_back_and_send_again_files_the_ticket_once(client, customer_user, ticket_service):
    client.force_login(customer_user)
    form = client.get(reverse("portal-ticket-new")).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', form)[1]
    data = {
        "form_token": token,
        "subject": "Publishing fails",
        "service": ticket_service.pk,
        "severity": "3",
        "description": "Error 500.",
    }
    first = client.post(reverse("portal-ticket-new"), data)
    again = client.post(reverse("portal-ticket-new"), data, follow=True)  # Back, then Send
    assert Ticket.objects.count() == 1
    ticket = Ticket.objects.get()
    assert first["Location"] == reverse("portal-ticket", args=[ticket.pk])
    assert again.redirect_chain[-1][0] == first["Location"]
    assert f"This form had already filed ticket {ticket.reference}" in again.content.decode()
    # A new form is a new token: a second, different filing goes through.
    other = client.get(reverse("portal-ticket-new")).content.decode()
    assert re.search(r'name="form_token" value="([^"]+)"', other)[1] != token
    client.post(reverse("portal-ticket-new"), data | {"form_token": "another"})
    assert Ticket.objects.count() == 2


def test_an_api_retry_with_the_same_key_gets_the_first_ticket(
    client, customer_user, ticket_service
):
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token_for(customer_user)}"}
    body = {
        "subject": "Export stalls",
        "service": ticket_service.pk,
        "severity": 3,
        "description": "Half-way.",
    }
    url = reverse("ticket-list")
    first = client.post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-7", **headers
    )
    again = client.post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-7", **headers
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1
    # Another person's same key is their own.
    too_long = client.post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k" * 201, **headers
    )
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()
    assert Ticket.objects.count() == 1


def test_the_desk_log_form_sent_twice_logs_one_ticket(
    client, agent, customer, customer_user, ticket_service
):
    service = ticket_service
    client.force_login(agent)
    form = client.get(reverse("desk-ticket-new")).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', form)[1]
    data = {
        "form_token": token,
        "customer": customer.name,
        "service": service.pk,
        "requester": customer_user.email,
        "subject": "Called: publishing fails",
        "description": "Phoned in at 9:50.",
        "severity": "3",
        "channel": "phone",
        "received_at": "2026-06-08T09:50",
    }
    first = client.post(reverse("desk-ticket-new"), data)
    again = client.post(reverse("desk-ticket-new"), data, follow=True)
    assert first.status_code == 302, first.content.decode()[:3000]
    assert Ticket.objects.count() == 1
    assert "had already been logged by this form" in again.content.decode()
