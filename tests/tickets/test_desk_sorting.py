"""The desk's sortable columns: deadline (the default), severity, newest or oldest, last
update and customer, each a link that keeps the search and the filters, each order kept
from page to page. (Each order's index: tests/slaportal/test_list_indexes.py.)"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.support.factories import CustomerFactory, CustomerUserFactory, ticket_contract
from tickets.models import Ticket
from tickets.services import ticket_file, ticket_from_unregistered_sender

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _person(name: str):
    customer = CustomerFactory(name=name)
    ticket_contract(customer)
    return CustomerUserFactory(customer=customer)


def _file(person, subject: str, severity: int, hours_ago: int) -> Ticket:
    return ticket_file(
        actor=person,
        service=person.customer.contracts.get().lines.first().service,
        subject=subject,
        description="Details.",
        severity=severity,
        now=timezone.now() - timedelta(hours=hours_ago),
    )


@pytest.fixture
def tickets(catalog):
    """Four open tickets, one of no customer; updated in an order of their own."""
    alpha, beta = _person("Alpha Inc"), _person("Beta Corp")
    made = {
        "a": _file(alpha, "Alpha S3", 3, hours_ago=4),
        "b": _file(beta, "Beta S1", 1, hours_ago=3),
        "c": _file(alpha, "Alpha S2", 2, hours_ago=2),
        "d": ticket_from_unregistered_sender(
            sender_email="who@elsewhere.test",
            subject="Nobody S4",
            description="Hello?",
            now=timezone.now() - timedelta(hours=1),
        ),
    }
    for minutes, key in enumerate(["c", "d", "b", "a"]):  # "a" updated last
        updated = timezone.now() - timedelta(minutes=40 - minutes)
        Ticket.objects.filter(pk=made[key].pk).update(updated_at=updated)
    return made


def _subjects(desk, **query) -> list[str]:
    html = desk.get(reverse("desk-home"), query).content.decode()
    return re.findall(r'<a href="/desk/tickets/\d+/">([^<]+)</a>', html)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("severity", ["Beta S1", "Alpha S2", "Alpha S3", "Nobody S4"]),
        ("newest", ["Nobody S4", "Alpha S2", "Beta S1", "Alpha S3"]),
        ("oldest", ["Alpha S3", "Beta S1", "Alpha S2", "Nobody S4"]),
        ("updated", ["Alpha S3", "Beta S1", "Nobody S4", "Alpha S2"]),
    ],
)
def test_each_column_sorts_the_queue(desk, tickets, sort, expected):
    assert _subjects(desk, sort=sort) == expected
    assert _subjects(desk, sort=sort, status="all") == expected  # every status alike


def test_the_customer_sort_puts_customers_in_name_order(desk, tickets):
    found = _subjects(desk, sort="customer")
    assert sorted(found[:2]) == ["Alpha S2", "Alpha S3"] and found[2:] == ["Beta S1"]
    # Within a customer the queue's own order: the nearest deadline first.
    alpha = sorted([tickets["a"], tickets["c"]], key=lambda t: (t.next_due_at, t.pk))
    assert found[:2] == [t.subject for t in alpha]
    page = desk.get(reverse("desk-home"), {"sort": "customer"}).content.decode()
    assert "tickets of no customer (mail nobody could place) are left out" in page


def test_the_default_order_is_the_nearest_deadline(desk, tickets):
    due = sorted(
        (t for t in tickets.values() if t.next_due_at), key=lambda t: (t.next_due_at, t.pk)
    )
    assert _subjects(desk) == [t.subject for t in due] + ["Nobody S4"]


def _header_links(html: str) -> dict[str, dict[str, list[str]]]:
    head = html.split("<thead>")[1].split("</thead>")[0]
    links = re.findall(r'<a href="\?([^"]*)">([^<]+)</a>', head)
    return {label.strip(" ↑↓"): parse_qs(query.replace("&amp;", "&")) for query, label in links}


def test_column_headers_are_links_that_keep_the_search_and_filters(desk, tickets):
    html = desk.get(
        reverse("desk-home"), {"q": "alpha", "severity": "3", "status": "all", "after": "x"}
    ).content.decode()
    links = _header_links(html)
    assert set(links) == {"Customer", "Severity", "Next deadline", "Opened", "Last update"}
    kept = {"q": ["alpha"], "severity": ["3"], "status": ["all"]}
    assert links["Severity"] == {**kept, "sort": ["severity"]}  # from the first page
    assert links["Customer"] == {**kept, "sort": ["customer"]}
    assert links["Opened"] == {**kept, "sort": ["newest"]}
    assert links["Last update"] == {**kept, "sort": ["updated"]}
    assert links["Next deadline"] == kept  # the default order needs no parameter


def test_the_sorted_column_says_so_and_opened_turns_round(desk, tickets):
    html = desk.get(reverse("desk-home"), {"sort": "newest"}).content.decode()
    assert re.search(r'<th scope="col" aria-sort="descending"><a [^>]*>Opened ↓', html)
    assert _header_links(html)["Opened"] == {"sort": ["oldest"]}
    html = desk.get(reverse("desk-home"), {"sort": "oldest"}).content.decode()
    assert _header_links(html)["Opened"] == {"sort": ["newest"]}
    assert "sorted by oldest" in html


def test_the_next_page_keeps_the_order(desk, catalog):
    person = _person("Gamma Ltd")
    for n in range(30):
        _file(person, f"T{n:02d}", 3, hours_ago=60 - n)
    html = desk.get(reverse("desk-home"), {"sort": "oldest"}).content.decode()
    first = re.findall(r'<a href="/desk/tickets/\d+/">([^<]+)</a>', html)
    assert first == [f"T{n:02d}" for n in range(25)]
    following = re.search(r'href="\?([^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
    assert parse_qs(following)["sort"] == ["oldest"]
    assert _subjects(desk, **{k: v[0] for k, v in parse_qs(following).items()}) == [
        f"T{n:02d}" for n in range(25, 30)
    ]


def test_an_unknown_sort_is_refused_in_words(desk, tickets):
    response = desk.get(reverse("desk-home"), {"sort": "price"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert _subjects(desk, sort="price") == []
