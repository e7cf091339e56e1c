"""One rule for "contract in force": from the start date to the earlier of the end of the
term and the termination day, both inclusive. The queries (``Contract.objects``) and a
loaded contract agree, and availability, statements and the API filter all keep the
termination day (ticket filing: ``test_ticket_services``; credit expiry:
``test_credit_services``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from contracts.models import Contract
from outages.selectors import contract_availability
from slaportal.months import month_days
from statements.selectors import due_contract_months
from statements.services import statement_generate
from statements.services.runs import contracts_owed
from tests.support.api_helpers import API, client_for
from tests.support.factories import ContractFactory, catalog_contract, record_outage

ET = ZoneInfo("America/New_York")
JUNE, JULY, AUGUST = date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)


@pytest.fixture
def terms(policy) -> list[Contract]:
    """Open-ended; a term ending 20 June; terminated on 20 June before its term's end."""
    return [
        ContractFactory(policy=policy, start_date=date(2026, 6, 11)),
        ContractFactory(policy=policy, start_date=date(2026, 6, 11), end_date=date(2026, 6, 20)),
        ContractFactory(
            policy=policy,
            start_date=date(2026, 6, 11),
            end_date=date(2026, 12, 31),
            terminated_on=date(2026, 6, 20),
        ),
    ]


def test_the_queries_and_a_loaded_contract_agree_on_every_day_around_the_edges(terms):
    days = [date(2026, 6, 9) + timedelta(days=n) for n in range(15)]  # 9 to 23 June
    for contract in terms:
        in_force = {d for d in days if Contract.objects.in_force_on(d).filter(pk=contract.pk)}
        assert in_force == {d for d in days if contract.in_force_on(d)}
        for first in days:
            for last in days[days.index(first) :]:
                found = Contract.objects.in_force_during(first, last).filter(pk=contract.pk)
                assert found.exists() == (contract.days_in_force(first, last) is not None)
    open_ended, ended, terminated = terms
    assert open_ended.days_in_force(*month_days(JUNE)) == (date(2026, 6, 11), date(2026, 6, 30))
    for contract in (ended, terminated):
        assert contract.last_day_in_force == date(2026, 6, 20)
        assert contract.in_force_on(date(2026, 6, 20)) and not contract.in_force_on(
            date(2026, 6, 21)
        )
        assert contract.days_in_force(*month_days(JUNE)) == (date(2026, 6, 11), date(2026, 6, 20))
        assert contract.days_in_force(*month_days(JULY)) is None
    assert not terminated.terminated_by(date(2026, 6, 20))
    assert terminated.terminated_by(date(2026, 6, 21))
    assert not ended.terminated_by(date(2027, 1, 1))  # a term that ran out is not terminated


def test_the_active_on_filter_keeps_the_termination_day(agent, terms):
    _, ended, terminated = terms
    client = client_for(agent)

    def ids(day: str) -> set[int]:
        response = client.get(f"{API}contracts/", {"active_on": day})
        return {c["id"] for c in response.json()["results"]}

    assert {ended.pk, terminated.pk} <= ids("2026-06-20")
    assert not {ended.pk, terminated.pk} & ids("2026-06-21")
    assert not {ended.pk, terminated.pk} & ids("2026-06-10")


def test_a_month_with_a_mid_month_start_and_termination_is_measured_on_its_days_in_force(
    catalog, customer
):
    # Heretto CCMS: 24x7, months in America/New_York. In force 11–20 June: ten days.
    contract = catalog_contract(
        customer,
        "heretto-ccms",
        {"Heretto CCMS": "3000.00"},
        start=date(2026, 6, 11),
        terminated_on=date(2026, 6, 20),
    )
    before = record_outage(contract, "Heretto CCMS", datetime(2026, 6, 10, 12, tzinfo=ET), 60)
    last_day = record_outage(contract, "Heretto CCMS", datetime(2026, 6, 20, 23, tzinfo=ET), 30)
    after = record_outage(contract, "Heretto CCMS", datetime(2026, 6, 21, 1, tzinfo=ET), 60)
    (row,) = contract_availability(contract, JUNE, now=datetime(2026, 7, 2, tzinfo=UTC))
    result = row.result
    assert (result.period_start, result.period_end) == (
        datetime(2026, 6, 11, tzinfo=ET),
        datetime(2026, 6, 21, tzinfo=ET),
    )
    assert result.period_seconds == 10 * 86_400
    assert result.share_of_month == Fraction(1, 3)  # the fee is prorated by the same share
    assert result.downtime_seconds == 30 * 60  # the termination day's outage counts
    verdicts = {v.outage_id: v.code for v in result.verdicts}
    assert verdicts == {
        before.pk: "outside_contract_period",
        last_day.pk: "counted",
        after.pk: "outside_contract_period",
    }


def test_a_contract_terminated_on_the_first_of_a_month_gets_that_month_s_statement(
    june_contract,
):
    Contract.objects.filter(pk=june_contract.pk).update(terminated_on=JULY)
    june_contract.refresh_from_db()
    august_over = datetime(2026, 9, 2, 12, tzinfo=UTC)
    assert contracts_owed(JULY, now=august_over) == [june_contract]
    assert contracts_owed(AUGUST, now=august_over) == []
    due = due_contract_months(august_over)
    assert june_contract.pk in due[JULY] and june_contract.pk not in due.get(AUGUST, [])
    statement = statement_generate(contract=june_contract, month=JULY, now=august_over)
    period = statement.snapshot["services"][0]
    assert (period["period_start"], period["period_end"]) == (
        datetime(2026, 7, 1, 4, tzinfo=UTC).isoformat(),
        datetime(2026, 7, 2, 4, tzinfo=UTC).isoformat(),
    )
