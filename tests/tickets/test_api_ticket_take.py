"""POST /api/v1/tickets/{id}/take/: the desk's Take button through the API."""

from __future__ import annotations

import pytest
import time_machine

from tests.support.api_helpers import API, client_for
from tests.support.ticket_api_helpers import NOW, filed_ticket, foreign_ticket_of
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ticket(customer_user, ticket_service) -> Ticket:
    return filed_ticket(customer_user, ticket_service)


def test_an_agent_takes_a_new_ticket_which_becomes_open_and_theirs(agent, ticket):
    response = client_for(agent).post(f"{API}tickets/{ticket.pk}/take/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["assignee"], body["status"]) == (agent.pk, "open")
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (agent, "open")


# The customer sees their ticket but may not take it; operations and account managers
# do not see tickets at all (as in the rest of the tickets API).
@pytest.mark.parametrize(
    "who, status", [("customer_user", 403), ("operations", 404), ("account_manager", 404)]
)
def test_people_who_do_not_work_tickets_may_not_take_one(who, status, request, ticket):
    response = client_for(request.getfixturevalue(who)).post(f"{API}tickets/{ticket.pk}/take/")

    assert response.status_code == status
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_another_customers_ticket_is_a_404(customer_user, other_customer, tiered_contract):
    foreign = foreign_ticket_of(other_customer)

    response = client_for(customer_user).post(f"{API}tickets/{foreign.pk}/take/")

    assert response.status_code == 404
