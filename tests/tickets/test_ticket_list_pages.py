"""Ticket lists paged by position (API cursors, the desk's ?after=/?before= links): a walk
through the pages sees every ticket once, in the list's order, even when tickets are filed
between two pages; the last page is one request away; a position the list did not hand
out is a 400 in the API and the first page on the desk."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tests.support.api_helpers import API, client_for
from tests.support.factories import CustomerFactory, TicketFactory, make_contract
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def contracts():
    return [make_contract(CustomerFactory(), reference=f"L-{n}") for n in range(2)]


def _ticket(contract, n: int, *, status: str = "open", due: datetime | None = None) -> Ticket:
    at = T0 + timedelta(minutes=n // 2)  # two tickets share each minute
    done = status in ("resolved", "closed")
    return TicketFactory(
        contract=contract,
        status=status,
        received_at=at,
        created_at=at,
        resolved_at=at if done else None,
        closed_at=at if status == "closed" else None,
        next_due_at=due,
    )


@pytest.fixture
def tickets(contracts) -> list[Ticket]:
    """15 tickets of two customers: open ones with tied, distinct and no deadlines, and
    closed ones."""
    made = []
    for n in range(15):
        status = "closed" if n % 4 == 3 else "open"
        due = None if status == "closed" or n % 5 == 0 else T0 + timedelta(hours=n % 3)
        made.append(_ticket(contracts[n % 2], n, status=status, due=due))
    return made


def _ids(body) -> list[int]:
    return [row["id"] for row in body["results"]]


def _walk(client, first_url: str, params: dict, between=None) -> list[int]:
    body = client.get(first_url, params).json()
    seen = _ids(body)
    while body["next"]:
        if between:
            between()
        body = client.get(body["next"]).json()
        seen += _ids(body)
    return seen


# ---------------------------------------------------------------- the API


def test_staff_walk_every_ticket_newest_first(agent, tickets):
    client = client_for(agent)
    newest = [t.pk for t in Ticket.objects.order_by("-created_at", "-id")]
    for size in (1, 2, 4):
        assert _walk(client, f"{API}tickets/", {"page_size": size}) == newest


def test_pages_stay_put_when_tickets_are_filed_between_them(agent, tickets, contracts):
    client = client_for(agent)
    before = [t.pk for t in Ticket.objects.order_by("-created_at", "-id")]
    filed = []

    def file_one():
        filed.append(_ticket(contracts[0], 1000 + len(filed)).pk)  # newer than any

    assert _walk(client, f"{API}tickets/", {"page_size": 2}, between=file_one) == before
    assert len(filed) == 7
    # The new ones are on the first page, read again.
    first = client.get(f"{API}tickets/", {"page_size": 7}).json()
    assert sorted(_ids(first)) == sorted(filed)


def test_the_due_order_walks_the_tickets_with_no_deadline_last(agent, tickets):
    client = client_for(agent)
    expected = [
        t.pk
        for t in sorted(tickets, key=lambda t: (t.next_due_at is None, t.next_due_at or T0, t.pk))
    ]
    for size in (1, 3):
        walked = _walk(client, f"{API}tickets/", {"ordering": "due", "page_size": size})
        assert walked == expected


def test_previous_walks_back_to_the_first_page(agent, tickets):
    client = client_for(agent)
    pages = [client.get(f"{API}tickets/", {"page_size": 4}).json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    back = pages[-1]
    for page in reversed(pages[:-1]):
        back = client.get(back["previous"]).json()
        assert _ids(back) == _ids(page)
    assert back["previous"] is None


def test_a_customer_walks_only_their_organisation_s_tickets(contracts, tickets):
    from tests.support.factories import CustomerUserFactory

    person = CustomerUserFactory(customer=contracts[1].customer)
    own = [
        t.pk
        for t in Ticket.objects.filter(customer=contracts[1].customer).order_by(
            "-created_at", "-id"
        )
    ]
    assert _walk(client_for(person), f"{API}tickets/", {"page_size": 2}) == own


def test_a_cursor_of_another_order_is_a_400(agent, tickets):
    client = client_for(agent)
    newest = client.get(f"{API}tickets/", {"page_size": 2}).json()
    response = client.get(newest["next"] + "&ordering=due")
    assert response.status_code == 400
    assert "start again from the first page" in response.json()["cursor"][0]


# ---------------------------------------------------------------- the desk


@pytest.fixture
def desk(agent, monkeypatch):
    monkeypatch.setattr("slaportal.pages.PAGE_SIZE", 2)
    session = Client()
    session.force_login(agent)
    return session


def _desk_page(desk, query: str | dict) -> tuple[list[int], dict[str, str]]:
    response = desk.get(
        reverse("desk-home") + (f"?{query}" if isinstance(query, str) else ""),
        query if isinstance(query, dict) else None,
    )
    assert response.status_code == 200
    text = response.content.decode()
    ids = [int(pk) for pk in re.findall(r'<a href="/desk/tickets/(\d+)/">', text)]
    links = {
        label: html.unescape(query)
        for query, label in re.findall(
            r'<a class="button[^"]*" href="\?([^"]*)"[^>]*>([^<]+)</a>', text
        )
    }
    return ids, links


def _desk_walk(desk, query: dict, between=None) -> list[int]:
    ids, links = _desk_page(desk, query)
    seen = list(ids)
    while "Next →" in links:
        if between:
            between()
        ids, links = _desk_page(desk, links["Next →"])
        seen += ids
    return seen


def test_the_desk_walks_the_open_queue_by_position(desk, tickets, contracts):
    queue = [
        t.pk
        for t in sorted(
            (t for t in tickets if t.status == "open"),
            key=lambda t: (t.next_due_at is None, t.next_due_at or T0, t.pk),
        )
    ]
    filed = []

    def file_one():  # a breached ticket jumps to the top, not into the walk
        filed.append(_ticket(contracts[0], 500, due=T0 - timedelta(days=1)).pk)

    assert _desk_walk(desk, {}, between=file_one) == queue
    ids, _ = _desk_page(desk, {})
    assert ids[0] in filed


def test_any_status_lists_open_tickets_by_deadline_then_the_rest_newest_first(desk, tickets):
    expected = [
        t.pk
        for t in sorted(
            tickets,
            key=lambda t: (
                t.next_due_at is None,
                t.next_due_at or T0,
                -t.created_at.timestamp(),
                -t.pk,
            ),
        )
    ]
    assert _desk_walk(desk, {"status": "all"}) == expected
    closed = [t.pk for t in sorted(tickets, key=lambda t: (t.created_at, t.pk), reverse=True)]
    closed = [pk for pk in closed if Ticket.objects.get(pk=pk).status == "closed"]
    assert _desk_walk(desk, {"status": "closed"}) == closed


def test_the_desk_s_last_page_and_previous_links(desk, tickets):
    forward = []
    ids, links = _desk_page(desk, {"severity": "3"})
    forward.append(ids)
    first_links = links
    while "Next →" in links:
        ids, links = _desk_page(desk, links["Next →"])
        forward.append(ids)
    assert "severity=3" in first_links["Last »"]
    ids, links = _desk_page(desk, first_links["Last »"])
    assert ids == forward[-1] and "Next →" not in links
    for expected in reversed(forward[:-1]):
        ids, links = _desk_page(desk, links["← Previous"])
        assert ids == expected
    assert "← Previous" not in links and "« First" not in links


def test_a_desk_position_that_is_not_one_shows_the_first_page(desk, tickets):
    first, _ = _desk_page(desk, {})
    for junk in ("garbage", "eyJvIjoiYWJjIn0", "end"):
        assert _desk_page(desk, {"after": junk})[0] == first
    assert _desk_page(desk, {"before": "garbage"})[0] == first


def test_the_customer_search_finds_the_tickets_of_every_customer_it_names(
    desk, contracts, tickets, monkeypatch
):
    contracts[0].customer.name, contracts[1].customer.name = "Northwind Foods", "Northwind Labs"
    for contract in contracts:
        contract.customer.save()
    open_ = {t.pk for t in tickets if t.status == "open"}
    assert set(_desk_walk(desk, {"customer": "northwind"})) == open_
    # A search that names more customers than the desk lists by id joins them instead.
    monkeypatch.setattr("tickets.selectors.NAMED_CUSTOMERS_LISTED", 1)
    assert set(_desk_walk(desk, {"customer": "NORTHWIND"})) == open_
    assert _desk_walk(desk, {"customer": "Foods"}) == [
        pk for pk in _desk_walk(desk, {}) if pk in {t.pk for t in tickets[::2]}
    ]
