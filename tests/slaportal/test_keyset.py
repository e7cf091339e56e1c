"""Keyset pages (slaportal.keyset): walking a list page by page, forwards from the start
or backwards from the end, gives every row once and in the list's order, whatever the
order (ties, mixed directions, nulls first or last, a column across a relation); a
position this order did not hand out is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F

from slaportal import keyset
from tests.support.factories import CustomerFactory, TicketFactory, make_contract
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
ORDERS = {
    "newest": ("-created_at", "-id"),
    "due, nulls last": (F("next_due_at").asc(nulls_last=True), "id"),
    "desk, any status": (F("next_due_at").asc(nulls_last=True), "-created_at", "-id"),
    "due descending, nulls first": ("-next_due_at",),  # the primary key is added
    "customer name across a relation": ("customer__name", "-created_at"),
    "mixed directions": ("severity", "-created_at", "status", "id"),
}


@pytest.fixture
def tickets() -> list[Ticket]:
    """17 tickets with ties on every column and some without a deadline or customer."""
    contracts = [
        make_contract(CustomerFactory(name=name), reference=f"K-{name}")
        for name in ("Beta", "Alpha", "Gamma")
    ]
    made = []
    for n in range(17):
        at = T0 + timedelta(hours=n // 3)  # three tickets share each time
        unregistered = n % 5 == 0
        made.append(
            TicketFactory(
                contract=None if unregistered else contracts[n % 3],
                unregistered_sender=unregistered,
                sender_email="someone@example.com" if unregistered else "",
                severity=1 + n % 4,
                status=("new", "open", "resolved")[n % 3],
                resolved_at=at if n % 3 == 2 else None,
                received_at=at,
                created_at=at,
                next_due_at=None if n % 4 == 0 else T0 + timedelta(hours=n % 3),
            )
        )
    return made


def _walk_forward(queryset, ordering, size):
    seen, key = [], None
    while True:
        page = keyset.read(queryset, ordering, size=size, key=key)
        seen += page.rows
        if not page.more:
            return seen
        key = ordering.key(page.rows[-1])


def _walk_backward(queryset, ordering, size):
    seen, key = [], None
    while True:
        page = keyset.read(queryset, ordering, size=size, key=key, reverse=True)
        seen = page.rows + seen
        if not page.more:
            return seen
        key = ordering.key(page.rows[0])


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
@pytest.mark.parametrize("size", [1, 3, 5])
def test_walking_the_pages_gives_every_row_once_in_order(tickets, order, size):
    queryset = Ticket.objects.order_by(*order)
    ordering = keyset.Ordering.of(queryset)
    expected = list(ordering.apply(queryset))
    assert len(expected) == 17
    assert _walk_forward(queryset, ordering, size) == expected
    assert _walk_backward(queryset, ordering, size) == expected


def test_the_order_is_the_queryset_s_or_the_model_s_ended_by_the_primary_key():
    terms = keyset.Ordering.of(Ticket.objects.all()).terms
    assert [(t.path, t.descending) for t in terms] == [("created_at", True), ("id", True)]
    terms = keyset.Ordering.of(Ticket.objects.order_by("severity")).terms
    assert [(t.path, t.descending) for t in terms] == [("severity", False), ("id", False)]
    # A unique column ends an order already.
    from contracts.models import Customer

    terms = keyset.Ordering.of(Customer.objects.all()).terms
    assert [t.path for t in terms] == ["name"]


def test_an_order_by_a_relation_or_an_expression_is_refused():
    with pytest.raises(TypeError, match="customer_id"):
        keyset.Ordering.of(Ticket.objects.order_by("customer"))
    with pytest.raises(TypeError):
        keyset.Ordering.of(Ticket.objects.order_by(F("severity") * 2))


def test_a_position_goes_out_and_comes_back_as_it_was(tickets):
    ordering = keyset.Ordering.of(Ticket.objects.order_by(*ORDERS["desk, any status"]))
    for ticket in tickets:
        key = ordering.key(ticket)
        assert ordering.decode(ordering.encode(key, reverse=True)) == (key, True)
    assert ordering.decode(ordering.encode(None, reverse=True)) == (None, True)


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "",
        "%%%",
        "eyJvIjoxfQ",  # {"o":1}
        "bnVsbA",  # null
    ],
)
def test_a_token_that_is_not_a_position_is_refused(token):
    ordering = keyset.Ordering.of(Ticket.objects.all())
    with pytest.raises(keyset.InvalidCursor):
        ordering.decode(token)


def test_a_position_of_another_order_or_with_wrong_values_is_refused(tickets):
    newest = keyset.Ordering.of(Ticket.objects.all())
    due = keyset.Ordering.of(Ticket.objects.order_by(*ORDERS["due, nulls last"]))
    token = due.encode(due.key(tickets[1]), reverse=False)
    with pytest.raises(keyset.InvalidCursor):
        newest.decode(token)
    forged = [
        ["not a time", 1],
        ["2026-06-01T09:00:00", 1],  # no zone
        ["2026-06-01T09:00:00+00:00", None],  # the id is never empty
        ["2026-06-01T09:00:00+00:00", {"id": 1}],
        ["2026-06-01T09:00:00+00:00"],
        ["2026-06-01T09:00:00+00:00", 10**30],  # past a bigint
        ["2026-06-01T09:00:00+00:00", 1.5],
    ]
    for values in forged:
        with pytest.raises(keyset.InvalidCursor):
            newest.decode(_token(newest, values))


def _token(ordering, values) -> str:
    import base64
    import json

    payload = {"o": ordering.signature, "r": 0, "k": values}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
