"""The customer dashboard (/portal/) and the account manager dashboard (/am/): the
figures they show, what they never show (another customer's data, internal notes), and
a number of queries that does not grow with the data."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credits.models import Credit
from outages.services import outage_post_update, outage_record
from statements.services.generate import statement_generate
from tests.support.factories import (
    CustomerFactory,
    CustomerUserFactory,
    StaffFactory,
    TicketFactory,
    catalog_contract,
    grant,
    make_contract,
    pending_credit,
    record_outage,
)

NOW = datetime(2026, 6, 25, 15, tzinfo=UTC)
ET = ZoneInfo("America/New_York")
MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _text(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _breached_ticket(contract, **kw):
    """An open ticket whose first response was due two days ago."""
    return TicketFactory(
        contract=contract,
        received_at=NOW - timedelta(days=3),
        response_target=timedelta(hours=4),
        response_due_at=NOW - timedelta(days=2),
        resolution_target=timedelta(days=5),
        resolution_due_at=NOW + timedelta(days=2),
        status="open",
        **kw,
    )


def _closed_ticket(contract, **kw):
    done = NOW - timedelta(days=1)
    return TicketFactory(contract=contract, status="closed", resolved_at=done, closed_at=done, **kw)


def _ongoing_outage(contract, service_name: str, title: str, **kw):
    return outage_record(
        service=contract.services.get(name=service_name),
        started_at=NOW - timedelta(hours=1),
        category="internal",
        title=title,
        actor=None,
        now=NOW,
        **kw,
    )


# ---------------------------------------------------------------- customer dashboard


@pytest.fixture
def portal(client, june_contract):
    user = CustomerUserFactory(customer=june_contract.customer)
    client.force_login(user)
    return client


def test_customer_sees_this_months_availability_so_far_against_the_target(portal):
    text = _text(portal.get(reverse("portal-home")))
    # 345 minutes counted on Heretto CCMS in June (see the june_contract fixture), over
    # the part of June gone by (99.201 % once the whole month has passed).
    assert "Heretto CCMS June 2026 C-JUNE-1 99.020 % 99.500 % Below target" in text
    assert "Cloud Publishing June 2026 C-JUNE-1 100.000 % 99.500 % On track" in text
    assert "1 below target" in text


def test_customer_sees_open_tickets_with_their_clocks_but_not_closed_ones(portal, june_contract):
    late = _breached_ticket(june_contract, subject="Editor will not save")
    _closed_ticket(june_contract, subject="Old closed issue")
    response = portal.get(reverse("portal-home"))
    text = _text(response)
    assert "Editor will not save" in text and "Old closed issue" not in text
    assert reverse("portal-ticket", args=[late.pk]) in response.content.decode()
    assert "Breached was due 23 Jun, 15:00" in text  # the response clock, viewer zone UTC
    assert "All tickets (1 open)" in text


def test_customer_sees_credit_balance_and_only_issued_statements(
    portal, june_contract, account_manager
):
    grant(june_contract, account_manager, "200.00")
    issued = statement_generate(contract=june_contract, month=MAY, now=NOW)
    draft = statement_generate(contract=june_contract, month=JUNE, now=NOW, draft=True)
    response = portal.get(reverse("portal-home"))
    html, text = response.content.decode(), _text(response)
    assert "200.00 USD" in text
    assert reverse("portal-statement", args=[issued.pk]) in html
    assert issued.number in text and draft.number not in text
    for name in ("portal-tickets", "portal-credits", "portal-statements"):
        assert reverse(name) in html


def test_customer_sees_ongoing_incidents_with_public_updates_only(portal, june_contract):
    outage = _ongoing_outage(
        june_contract,
        "Heretto CCMS",
        "Publishing queue stalled",
        description="Exports are delayed.",
        internal_notes="Root cause: bad deploy by team X",
    )
    outage_post_update(outage=outage, text="Engineers are rolling back.", public=True, actor=None)
    outage_post_update(outage=outage, text="Paged the DBA on call.", public=False, actor=None)
    text = _text(portal.get(reverse("portal-home")))
    assert "Publishing queue stalled" in text and "Exports are delayed." in text
    assert "Engineers are rolling back." in text
    assert "bad deploy" not in text and "Paged the DBA" not in text


def test_customer_dashboard_never_shows_another_customers_data(
    portal, june_contract, account_manager
):
    other = CustomerFactory(name="Globex")
    other.account_managers.add(account_manager)
    theirs = catalog_contract(
        other, "heretto-ccms", {"Heretto CCMS": "900.00", "Globex Only": "10.00"}, reference="GX-1"
    )
    _breached_ticket(theirs, subject="Globex ticket")
    grant(theirs, account_manager, "77.00")
    statement_generate(contract=theirs, month=MAY, now=NOW)
    # Limited to Globex, though on a service we share; and an outage of a service we
    # do not have.
    _ongoing_outage(
        theirs, "Heretto CCMS", "Globex tenant migration", scope="customers", customers=[other]
    )
    _ongoing_outage(theirs, "Globex Only", "Globex-only service down")
    text = _text(portal.get(reverse("portal-home")))
    for foreign in (
        "GX-1",
        "Globex ticket",
        "77.00",
        "Globex tenant migration",
        "Globex-only service down",
        "Globex Only",
    ):
        assert foreign not in text
    assert "No incident is affecting your services right now." in text


def test_customer_dashboard_explains_each_empty_panel(client, customer_user):
    client.force_login(customer_user)
    text = _text(client.get(reverse("portal-home")))
    assert "No services measured this month." in text
    assert "No open tickets." in text
    assert "No credit balance." in text
    assert "No statements yet." in text
    assert "No contracts yet" in text


def _customer_data(contract, account_manager, n: int, month: date, first: int = 1) -> None:
    """``n`` of everything the customer dashboard shows."""
    for i in range(n):
        _breached_ticket(contract, subject=f"Issue {month} {i}")
        _closed_ticket(contract)
        record_outage(contract, "Heretto CCMS", datetime(2026, 6, 2 + i, 3, tzinfo=ET), 10 + i)
        grant(contract, account_manager, f"{10 + i}.00", month=date(2026, first + i, 1))
        outage = _ongoing_outage(contract, "Cloud Publishing", f"Incident {month} {i}")
        outage_post_update(outage=outage, text="Investigating.", public=True, actor=None)
        outage_post_update(outage=outage, text="Internal.", public=False, actor=None)
    statement_generate(contract=contract, month=month, now=NOW)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_customer_dashboard_queries_do_not_grow_with_the_data(
    portal, june_contract, account_manager
):
    # May's statement carries a credit, so its list row reads credit states as the
    # larger data's rows do (a list without any credit needs fewer queries).
    record_outage(june_contract, "Heretto CCMS", datetime(2026, 5, 5, 3, tzinfo=ET), 300)
    _customer_data(june_contract, account_manager, 1, MAY)
    # Each visit after outages change first refreshes the services' stored facts of the
    # month (a bounded write; outages.shared_facts): both counts are the visit after that.
    portal.get(reverse("portal-home"))
    small = _queries(portal, reverse("portal-home"))
    _customer_data(june_contract, account_manager, 4, date(2026, 4, 1), first=2)
    more = catalog_contract(
        june_contract.customer, "balto-uptime", {"Balto Platform": "300.00"}, reference="C-2"
    )
    _customer_data(more, account_manager, 0, MAY)
    text = _text(portal.get(reverse("portal-home")))
    assert "C-2" in text and "Incident 2026-04-01 3" in text  # the larger data is shown
    assert _queries(portal, reverse("portal-home")) == small


# ---------------------------------------------------------------- account manager


@pytest.fixture
def am(client, account_manager):
    client.force_login(account_manager)
    return client


def _managed(account_manager, name: str, reference: str, service: str = "Heretto CCMS"):
    customer = CustomerFactory(name=name)
    customer.account_managers.add(account_manager)
    return catalog_contract(customer, "heretto-ccms", {service: "1000.00"}, reference=reference)


def test_account_manager_sees_customers_ranked_by_risk_with_the_reasons(
    am, june_contract, account_manager
):
    june_contract.customer.name = "Acme Corp"
    june_contract.customer.save()
    calm = _managed(account_manager, "Calm Ltd", "CALM-1", "Calm Service")
    busy = _managed(account_manager, "Busy Inc", "BUSY-1", "Busy Service")
    _breached_ticket(busy)
    _breached_ticket(busy)
    pending_credit(calm, "40.00")
    text = _text(am.get(reverse("am-home")))
    ranking = text[text.index("Customers by risk") : text.index("Credits awaiting")]
    order = [ranking.index(name) for name in ("Acme Corp", "Busy Inc", "Calm Ltd")]
    assert order == sorted(order)
    assert "Acme Corp 1 contract High" in ranking
    assert "Busy Inc 1 contract Watch" in ranking
    assert "Heretto CCMS (C-JUNE-1) at 99.020 %, below its 99.500 % target" in text
    assert "2 breached tickets (open or this month)" in text
    assert "1 credit pending (40.00 USD)" in text


def test_account_manager_sees_credits_awaiting_decision_with_links(am, june_contract):
    credit = pending_credit(june_contract, "62.50")
    response = am.get(reverse("am-home"))
    assert reverse("am-credit", args=[credit.pk]) in response.content.decode()
    text = _text(response)
    assert "62.50 USD" in text
    assert "1 credit awaiting your decision" in text


def test_account_manager_sees_only_their_customers(client, june_contract, account_manager):
    second = StaffFactory(role="account_manager")
    theirs = _managed(second, "Second Managers Co", "SMC-1", "SMC Service")
    _breached_ticket(theirs)
    foreign_credit = pending_credit(theirs, "33.00")
    client.force_login(account_manager)
    response = client.get(reverse("am-home"))
    text = _text(response)
    assert "C-JUNE-1" in text
    assert "Second Managers Co" not in text and "33.00" not in text
    assert reverse("am-credit", args=[foreign_credit.pk]) not in response.content.decode()
    client.force_login(second)
    text = _text(client.get(reverse("am-home")))
    assert "Second Managers Co" in text and "C-JUNE-1" not in text


def test_attainment_chart_shows_the_share_met_per_month_and_severity(am, june_contract):
    april = datetime(2026, 4, 10, 12, tzinfo=UTC)
    for responded in (timedelta(minutes=30), timedelta(hours=2)):  # one met, one late
        TicketFactory(
            contract=june_contract,
            severity=1,
            received_at=april,
            response_target=timedelta(hours=1),
            response_due_at=april + timedelta(hours=1),
            responded_at=april + responded,
            status="open",
        )
    response = am.get(reverse("am-home"))
    html, text = response.content.decode(), _text(response)
    assert '<svg class="dash-chart__svg" role="img" aria-labelledby="chart-1-title' in html
    assert "Severity 1, Apr 2026: 1 of 2 met (50 %)" in html  # the bar's <title>
    assert "Apr 2026 50 % (1 of 2) – – –" in text  # the table fallback, first response
    assert "1 of 2 measured tickets met their target (50 %)" in text


def _am_data(account_manager, n: int, tag: str) -> None:
    for i in range(n):
        contract = _managed(account_manager, f"Customer {tag} {i}", f"{tag}-{i}", f"Svc {tag}")
        _breached_ticket(contract)
        TicketFactory(contract=contract, severity=2, received_at=NOW - timedelta(days=60))
        pending_credit(contract, "10.00")
        record_outage(contract, f"Svc {tag}", datetime(2026, 6, 3, 3, tzinfo=ET), 500)


def test_account_manager_dashboard_queries_do_not_grow_with_the_data(
    am, june_contract, account_manager
):
    _am_data(account_manager, 1, "S")
    am.get(reverse("am-home"))  # refreshes the stored facts of the month, as above
    small = _queries(am, reverse("am-home"))
    _am_data(account_manager, 5, "L")
    catalog_contract(june_contract.customer, "balto-uptime", {"Balto Platform": "3.00"})
    assert "Customer L 4" in _text(am.get(reverse("am-home")))
    assert _queries(am, reverse("am-home")) == small


def test_administrator_sees_every_customer_and_every_pending_credit(client, june_contract):
    credit = pending_credit(june_contract, "12.00")
    client.force_login(StaffFactory(role="admin"))
    response = client.get(reverse("am-home"))
    assert "As an administrator you see every customer." in _text(response)
    assert reverse("am-credit", args=[credit.pk]) in response.content.decode()
    assert Credit.objects.filter(status="pending").count() == 1


def test_a_calendar_that_cannot_measure_leaves_the_rest_of_the_dashboard_working(
    client, customer_user
):
    # make_contract's test policy measures on a calendar with no opening hours.
    make_contract(customer_user.customer, reference="C-NO-HOURS")
    client.force_login(customer_user)
    response = client.get(reverse("portal-home"))
    text = _text(response)
    assert response.status_code == 200
    assert "Some of this month's figures cannot be shown right now." in text
    assert "C-NO-HOURS" in text  # the contracts panel still lists it
