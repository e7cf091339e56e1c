"""Every long list's order has a matching index: on PostgreSQL, with sequential scans,
bitmap scans and sorts priced out, each query a page runs (the first page, the next and
the previous page from a position, the last page; the desk's and the portal's too) reads
an index in order and sorts nothing. A list whose order no index gives would show a Sort
of every row here, as the staff ticket API once did (644 ms at 200,000 tickets).

Short lists need no index of their own, each for a reason in EXEMPT; a new list must be
listed in one or the other."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.urls import get_resolver
from django.urls.resolvers import URLResolver
from rest_framework.test import APIRequestFactory, force_authenticate

from slaportal import keyset
from tests.support.factories import CustomerFactory, CustomerUserFactory, StaffFactory
from tickets.models import TicketMessage
from tickets.queue_forms import QueueFilterForm
from tickets.selectors import DESK_SORTS, customer_tickets
from tickets.views.desk import _queue

PAGE = 51  # a page of 50 and one more, as the pagination reads it
EXEMPT = {
    "service-list": "the catalog: tens of services",
    "calendar-list": "the catalog: a few calendars",
    "policy-list": "the catalog: a few policies and their versions",
    "person-list": "one organisation's people",
    "statement-run-list": "one run a month, and its retries",
    "ledger-entry-balance": "one row per customer and currency",
}
# Each API list as each kind of reader reads it (query parameters that change the order).
API_LISTS = {
    "ticket-list": [
        ("agent", {}),
        ("agent", {"ordering": "due"}),
        ("agent", {"status": "open"}),
        ("agent", {"status": "open", "ordering": "due"}),
        ("agent", {"customer": 1}),
        ("customer", {}),
    ],
    "ticket-messages": [("agent", {}), ("customer", {})],
    "outage-list": [("agent", {})],
    "statement-list": [("account_manager", {}), ("customer", {})],
    "credit-list": [("admin", {})],
    "ledger-entry-list": [("admin", {}), ("customer", {})],
    "credit-note-list": [("admin", {}), ("customer", {})],
    "invoice-list": [("admin", {}), ("customer", {})],
    "contract-list": [("admin", {}), ("customer", {})],
    "customer-list": [("admin", {})],
}
DESK_STATUSES = ["", "open", "waiting_on_customer", "closed", "all"]
# The contract list orders by the customer's name: customers in name order, then each
# one's contracts from contract_customer_list_idx, sorted within the customer only.
SORTS_WITHIN_A_GROUP = {"contract-list"}


@pytest.fixture
def priced_out(postgres):
    """Plans as if the tables were large: no sequential or bitmap scan, no sort (nor an
    incremental one: on a test's few rows the planner may prefer sorting ties to reading
    the index in full order), unless nothing else can answer."""
    settings = ("enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_incremental_sort")
    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET LOCAL {setting} = off")


def _patterns(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif prefix.startswith("api/") and getattr(pattern.callback, "actions", None):
            yield pattern


def _list_names() -> set[str]:
    """Every API operation that reads a list (an action but ``retrieve``)."""
    return {p.name for p in _patterns() if p.callback.actions.get("get") not in (None, "retrieve")}


def test_every_list_has_an_index_or_a_reason_not_to():
    binary = {"contract-availability", "credit-note-pdf", "statement-pdf", "ticket-attachment"}
    assert _list_names() - binary == set(API_LISTS) | set(EXEMPT)


def _user(kind: str, customer):
    if kind == "customer":
        return CustomerUserFactory(customer=customer)
    return StaffFactory(role=kind)


def _api_queryset(name: str, user, params: dict) -> QuerySet:
    """The queryset the list view pages, built by the view itself."""
    if name == "ticket-messages":  # an action: the thread of one ticket
        return _thread(user)
    pattern = next(p for p in _patterns() if p.name == name)
    request = APIRequestFactory().get("/", params)
    force_authenticate(request, user=user)
    view = pattern.callback.cls(action_map={"get": "list"}, action="list")
    view.args, view.kwargs, view.format_kwarg = (), {}, None
    view.request = view.initialize_request(request)
    view.headers = {}
    return view.filter_queryset(view.get_queryset())


def _thread(user) -> QuerySet:
    """As ``messages_visible_to`` reads one ticket's thread."""
    messages = TicketMessage.objects.filter(ticket_id=1).select_related("author")
    return messages if user.customer_id is None else messages.filter(public=True)


def _value(term: keyset.Term):
    kind = term.field.get_internal_type()
    if kind == "DateTimeField":
        return datetime(2026, 6, 1, 9, tzinfo=UTC)
    if kind == "DateField":
        return date(2026, 6, 1)
    if kind == "DecimalField":
        return Decimal("1")
    if kind == "BooleanField":
        return True
    if kind in ("CharField", "TextField", "EmailField", "SlugField"):
        return "m"
    return 1


def _positions(ordering: keyset.Ordering) -> list[keyset.Key | None]:
    """The start (or end), a position among values, and one among the nulls."""
    values = tuple(_value(t) for t in ordering.terms)
    nulls = tuple(None if t.nullable else v for t, v in zip(ordering.terms, values, strict=True))
    return [None, values, *([nulls] if nulls != values else [])]


def _sorts(queryset: QuerySet, *, within_groups: bool = False) -> list[str]:
    """The Sort nodes of every query a page of ``queryset`` may run."""
    ordering = keyset.Ordering.of(queryset)
    found = []
    for key in _positions(ordering):
        for reverse in (False, True):
            for query in keyset.plan(queryset, ordering, key=key, reverse=reverse):
                plan = query[:PAGE].explain()
                assert "Index" in plan, plan
                for line in plan.splitlines():
                    if re.search(r"^(\s*->)?\s*(Incremental )?Sort\s+\(", line):
                        if within_groups and "Incremental Sort" in line:
                            continue
                        found.append(f"{key} reverse={reverse}: {line.strip()}\n{plan}")
    return found


@pytest.mark.parametrize("name", sorted(API_LISTS))
def test_each_api_list_reads_an_index_in_order(name, priced_out, customer):
    if name in SORTS_WITHIN_A_GROUP:  # sorted within each group only, by design
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_incremental_sort = on")
    for kind, params in API_LISTS[name]:
        queryset = _api_queryset(name, _user(kind, customer), params)
        assert _sorts(queryset, within_groups=name in SORTS_WITHIN_A_GROUP) == [], (kind, params)


@pytest.mark.parametrize("status", DESK_STATUSES)
@pytest.mark.parametrize(
    "extra", [{}, {"severity": "1"}, {"assignee": "none"}, {"customer": "1"}, {"customer": "acme"}]
)
def test_the_desk_queue_reads_an_index_in_order(status, extra, priced_out):
    agent = StaffFactory(role="agent")
    CustomerFactory(name="Acme Logistics")  # what the customer search finds
    form = QueueFilterForm({"status": status, **extra})
    queryset = form.apply(_queue(agent, form.statuses()), user=agent)
    assert _sorts(queryset) == []


@pytest.mark.parametrize("status", DESK_STATUSES)
@pytest.mark.parametrize("sort", sorted(DESK_SORTS))
@pytest.mark.parametrize("extra", [{}, {"severity": "1"}, {"customer": "1"}])
def test_each_desk_sort_reads_an_index_in_order(sort, status, extra, priced_out):
    """The column headers' orders (tickets.selectors.desk_queue). By customer: customers
    in name order, each one's tickets from its queue or list index, sorted within the
    customer only (as the contract list)."""
    agent = StaffFactory(role="agent")
    CustomerFactory(name="Acme Logistics")
    form = QueueFilterForm({"status": status, "sort": "" if sort == "due" else sort, **extra})
    assert form.is_valid(), form.errors
    queryset = form.apply(_queue(agent, form.statuses(), form.sort_key()), user=agent)
    if sort == "customer":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_incremental_sort = on")
    assert _sorts(queryset, within_groups=sort == "customer") == []


def test_the_desk_queue_filters_the_status_once(db):
    agent = StaffFactory(role="agent")
    form = QueueFilterForm({})
    sql = str(form.apply(_queue(agent, form.statuses()), user=agent).query)
    assert sql.count('"status" IN') == 1


def test_the_portal_ticket_list_reads_an_index_in_order(priced_out, customer):
    plan = customer_tickets(customer)[25:50].explain()
    assert "ticket_customer_list_idx" in plan and not re.search(r"\bSort\b", plan), plan
