"""The SLA attainment report's figures: the statements' support sections, month by month
(issued ones as they were issued, the others computed now with the same rule), summed
over a customer's contracts; the median and 90th percentile time to first response in
business time; and whose figures each person sees."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.models import Customer
from portal.reports.attainment import attainment_report, nearest_rank, report_customers
from statements.services import statement_generate
from tests.support.attainment import (
    JULY,
    JUNE,
    NOW,
    H,
    et,
    june_tickets,
    make_ticket,
)
from tests.support.factories import (
    CustomerFactory,
    CustomerUserFactory,
    StaffFactory,
    UserFactory,
    catalog_contract,
)
from tickets.services._common import save_clocks

pytestmark = pytest.mark.django_db


def _counts(row) -> tuple:
    return (
        row.tickets,
        row.response["met"],
        row.response["breached"],
        row.resolution["met"],
        row.resolution["breached"],
    )


def _statement_counts(stored: dict) -> tuple:
    return (
        stored["tickets"],
        stored["response"]["met"],
        stored["response"]["breached"],
        stored["resolution"]["met"],
        stored["resolution"]["breached"],
    )


def _by_severity(report, month) -> dict[int, tuple]:
    return {row.severity: _counts(row) for row in report.rows if row.month == month}


def _sections(*statements) -> dict[int, tuple]:
    """The support sections of statements of one customer's month, added up."""
    total: dict[int, tuple] = {}
    for statement in statements:
        for stored in statement.snapshot["support"]["severities"]:
            counts = _statement_counts(stored)
            before = total.get(stored["severity"], (0,) * 5)
            total[stored["severity"]] = tuple(a + b for a, b in zip(before, counts, strict=True))
    return {severity: counts for severity, counts in total.items() if counts[0]}


def _report(customer, first=JUNE, last=JUNE, *, now=NOW, **kw):
    return attainment_report(
        Customer.objects.filter(pk=customer.pk), first=first, last=last, now=now, **kw
    )


def test_a_month_s_figures_are_its_statement_s_support_section(june_contract):
    june_tickets(june_contract)
    statement = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    report = _report(june_contract.customer)
    assert _by_severity(report, JUNE) == _sections(statement)
    # The case as counted by hand: five of six severity 2 tickets answered, one late and
    # one never (both breached); severity 1's answer came in 20 minutes.
    assert _by_severity(report, JUNE)[2][:3] == (6, 4, 2)
    assert _by_severity(report, JUNE)[1][:3] == (1, 1, 0)
    [row] = [r for r in report.rows if r.severity == 2]
    assert [(s.contract, s.statement, s.as_of) for s in row.sources] == [
        ("C-JUNE-1", statement.number, NOW)
    ]


def test_an_issued_month_stays_as_its_statement_says_when_tickets_move_on(june_contract):
    tickets = june_tickets(june_contract)
    # Received on 30 June at 19:00 ET: severity 4 (48 business hours) is not yet due when
    # the statement is generated, and breached when answered on 10 July.
    evening = make_ticket(june_contract, severity=4, received=et(2026, 6, 30, 19))
    statement = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    later = NOW + timedelta(days=10)
    for ticket, answered in ((evening, et(2026, 7, 10, 19)), (tickets["unanswered"], later)):
        ticket.responded_at, ticket.status = answered, "open"
        ticket.save(update_fields=["responded_at", "status"])
        save_clocks(ticket, now=later)
    report = _report(june_contract.customer, now=later)
    assert _by_severity(report, JUNE) == _sections(statement)
    assert _by_severity(report, JUNE)[4] == (1, 0, 0, 0, 0)  # open when issued: neither
    # The times are those of the responses the statement saw: not the later ones.
    [row] = [r for r in report.rows if r.severity == 2]
    assert len(row.response_times) == 5


def test_a_month_not_issued_is_counted_now_as_its_statement_would_be(june_contract):
    june_tickets(june_contract)
    make_ticket(
        june_contract, severity=2, received=et(2026, 7, 1, 9), responded=et(2026, 7, 1, 9, 30)
    )
    make_ticket(june_contract, severity=4, received=et(2026, 7, 1, 10))
    report = _report(june_contract.customer, JUNE, JULY)
    # A draft of each month, generated at the same instant, counts the same.
    for month in (JUNE, JULY):
        draft = statement_generate(contract=june_contract, month=month, now=NOW, draft=True)
        assert _by_severity(report, month) == _sections(draft), month
    july = [r for r in report.rows if r.month == JULY]
    assert {r.severity: r.sources[0].statement for r in july} == {2: None, 4: None}
    assert [r.median for r in july if r.severity == 2] == [timedelta(minutes=30)]


def test_a_customer_s_row_adds_up_their_contracts(june_contract):
    june_tickets(june_contract)
    customer = june_contract.customer
    second = catalog_contract(customer, "heretto-enterprise", {"Heretto Portal": "900.00"})
    make_ticket(second, severity=2, received=et(2026, 6, 9, 10), responded=et(2026, 6, 9, 12))
    make_ticket(second, severity=4, received=et(2026, 6, 9, 10))
    statements = [
        statement_generate(contract=contract, month=JUNE, now=NOW)
        for contract in (june_contract, second)
    ]
    report = _report(customer)
    assert _by_severity(report, JUNE) == _sections(*statements)
    [row] = [r for r in report.rows if r.severity == 2]
    assert row.tickets == 7 and sorted(s.statement for s in row.sources) == sorted(
        s.number for s in statements
    )
    # Times of both contracts: 1, 2, 2, 3, 4, 10 h.
    assert (row.median, row.p90) == (2 * H, 10 * H)


def test_median_and_p90_are_business_time_on_the_support_calendar(june_contract):
    june_tickets(june_contract)
    report = _report(june_contract.customer)
    rows = {row.severity: row for row in report.rows}
    assert sorted(rows[2].response_times) == [1 * H, 2 * H, 3 * H, 4 * H, 10 * H]
    assert (rows[2].median, rows[2].p90) == (3 * H, 10 * H)
    # Severity 1 runs around the clock: 20 minutes on a Saturday night.
    assert (rows[1].median, rows[1].p90) == (timedelta(minutes=20), timedelta(minutes=20))


def test_nearest_rank_gives_a_time_a_ticket_really_took():
    times = [timedelta(seconds=s) for s in (5, 1, 4, 2, 3)]
    assert nearest_rank(times, 50) == timedelta(seconds=3)
    assert nearest_rank(times, 90) == timedelta(seconds=5)
    assert nearest_rank(times[:4], 50) == timedelta(seconds=2)  # rank ⌈2⌉: the lower middle
    assert nearest_rank([], 50) is None


def test_the_severity_filter_keeps_one_severity(june_contract):
    june_tickets(june_contract)
    report = _report(june_contract.customer, severity=1)
    assert [(r.severity, r.tickets) for r in report.rows] == [(1, 1)]
    assert set(report.tallies("response")) == {(JUNE, 1)}


def test_months_before_a_contract_or_not_begun_have_no_rows(june_contract):
    june_tickets(june_contract)
    report = _report(june_contract.customer, first=JUNE.replace(year=2025), last=JUNE)
    assert {row.month for row in report.rows} == {JUNE}
    assert report.contract_months == 6  # January to June 2026


def test_months_and_times_follow_the_policy_zone_across_both_dst_changes(june_contract):
    autumn = datetime(2026, 11, 18, 15, tzinfo=UTC)
    customer = june_contract.customer
    # Severity 1 runs around the clock. 8 March: 01:30 EST → 03:30 EDT is one hour;
    # 1 November: 01:00 EDT → 01:00 EST is one hour too.
    make_ticket(
        june_contract,
        severity=1,
        received=et(2026, 3, 8, 1, 30),
        responded=et(2026, 3, 8, 3, 30),
        now=autumn,
    )
    make_ticket(
        june_contract,
        severity=1,
        received=datetime(2026, 11, 1, 5, tzinfo=UTC),
        responded=datetime(2026, 11, 1, 6, tzinfo=UTC),
        now=autumn,
    )
    # 31 October 23:30 in New York is 1 November in UTC: October's, as its statement's.
    make_ticket(june_contract, severity=3, received=et(2026, 10, 31, 23, 30), now=autumn)
    march = _report(customer, date(2026, 3, 1), date(2026, 3, 1), now=autumn)
    assert [(r.month, r.severity, r.median) for r in march.rows] == [(date(2026, 3, 1), 1, H)]
    autumn_report = _report(customer, date(2026, 10, 1), date(2026, 11, 1), now=autumn)
    assert [(r.month, r.severity, r.tickets, r.median) for r in autumn_report.rows] == [
        (date(2026, 10, 1), 3, 1, None),
        (date(2026, 11, 1), 1, 1, H),
    ]


def test_the_report_s_queries_do_not_grow_with_customers_contracts_or_tickets(june_contract):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    june_tickets(june_contract)
    make_ticket(june_contract, severity=2, received=et(2026, 7, 1, 9))
    statement_generate(contract=june_contract, month=JUNE, now=NOW)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            attainment_report(Customer.objects.all(), first=JUNE, last=JULY, now=NOW)
        return len(captured)

    before = queries()
    for n in range(3):
        contract = catalog_contract(CustomerFactory(), "heretto-enterprise", {f"S{n}": "1.00"})
        make_ticket(contract, severity=2, received=et(2026, 6, 9, 10), responded=et(2026, 6, 9, 11))
        make_ticket(contract, severity=3, received=et(2026, 7, 1, 10))
        statement_generate(contract=contract, month=JUNE, now=NOW)
    assert queries() == before


# ---------------------------------------------------------------- who sees what


def test_each_person_sees_the_customers_the_rule_gives(db):
    own, other = CustomerFactory(name="Own Co"), CustomerFactory(name="Other Co")
    manager = StaffFactory(role="account_manager")
    own.account_managers.add(manager)
    seen = {
        "customer": CustomerUserFactory(customer=own),
        "account_manager": manager,
        "agent": StaffFactory(role="agent"),
        "operations": StaffFactory(role="operations"),
        "admin": StaffFactory(role="admin"),
        "nobody": UserFactory(),
    }
    names = {
        role: list(report_customers(user).values_list("name", flat=True))
        for role, user in seen.items()
    }
    assert names == {
        "customer": ["Own Co"],
        "account_manager": ["Own Co"],
        "agent": ["Other Co", "Own Co"],
        "operations": ["Other Co", "Own Co"],
        "admin": ["Other Co", "Own Co"],
        "nobody": [],
    }
    assert other.pk not in report_customers(manager).values_list("pk", flat=True)
