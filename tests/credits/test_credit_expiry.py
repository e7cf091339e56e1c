"""Credits expire on termination (multiplier SLA): once the termination day has ended in
the policy's zone, the remaining balance is written off with a credit_expired entry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from contracts.models import Contract, SLAPolicy
from credits.selectors import customer_balance, ledger_for
from credits.services import credits_expire_on_termination
from credits.tasks import expire_credits_on_termination
from tests.support.credit_cases import CT, ET, contract_with_lines
from tests.support.factories import ContractFactory, ContractLineFactory, CustomerFactory, grant

D = Decimal


def expire_at(moment: datetime) -> int:
    """The hourly task at ``moment`` (the clock frozen), through Celery's task machinery
    in-process; worker-process tests come with the jobs."""
    with time_machine.travel(moment, tick=False):
        return expire_credits_on_termination.apply().get()


def grant_in_july(contract: Contract, manager, amount: str) -> None:
    with time_machine.travel(datetime(2026, 7, 6, 15, tzinfo=UTC), tick=False):
        grant(contract, manager, amount)


def test_credits_expire_when_every_contract_has_terminated_run_twice(balto, account_manager):
    grant_in_july(balto, account_manager, "100.00")
    Contract.objects.filter(pk=balto.pk).update(terminated_on=date(2026, 7, 31))
    assert expire_at(datetime(2026, 7, 30, 12, tzinfo=CT)) == 0
    assert expire_at(datetime(2026, 8, 1, 12, tzinfo=CT)) == 1
    assert expire_at(datetime(2026, 8, 1, 13, tzinfo=CT)) == 0
    entry = ledger_for(balto.customer).last()
    assert (entry.kind, entry.amount) == ("credit_expired", D("-100.00"))
    assert (
        entry.description
        == f"Credit expired (Balto Platform 2026-06): contract {balto.reference} terminated on 2026-07-31"
    )
    assert customer_balance(balto.customer, "USD") == D("0.00")


def test_credits_expire_once_the_termination_day_has_ended_in_the_policy_s_zone(
    balto, account_manager
):
    # Balto's policy measures in America/Chicago: 23:30 on the termination day there is
    # already the next day in UTC; the termination day is still in force.
    grant_in_july(balto, account_manager, "100.00")
    Contract.objects.filter(pk=balto.pk).update(terminated_on=date(2026, 7, 31))
    late_on_the_day = datetime(2026, 7, 31, 23, 30, tzinfo=CT)
    assert late_on_the_day.astimezone(UTC).date() == date(2026, 8, 1)
    assert expire_at(late_on_the_day) == 0
    assert credits_expire_on_termination(now=late_on_the_day) == 0
    assert customer_balance(balto.customer, "USD") == D("100.00")
    assert expire_at(datetime(2026, 8, 1, 0, 30, tzinfo=CT)) == 1
    assert customer_balance(balto.customer, "USD") == D("0.00")


def test_credits_do_not_expire_while_another_contract_is_running(balto, account_manager):
    grant_in_july(balto, account_manager, "100.00")
    Contract.objects.filter(pk=balto.pk).update(terminated_on=date(2026, 7, 31))
    contract_with_lines(balto.customer, "balto-uptime", {"Balto Coach": "500.00"})
    assert expire_at(datetime(2026, 8, 2, 12, tzinfo=CT)) == 0
    assert customer_balance(balto.customer, "USD") == D("100.00")


def test_credits_of_a_policy_that_does_not_expire_them_survive_termination(
    heretto, account_manager
):
    grant_in_july(heretto, account_manager, "200.00")
    Contract.objects.filter(pk=heretto.pk).update(terminated_on=date(2026, 7, 31))
    assert expire_at(datetime(2026, 8, 2, 12, tzinfo=ET)) == 0
    assert customer_balance(heretto.customer, "USD") == D("200.00")


@pytest.mark.edges
def test_at_any_instant_the_expiry_goes_by_the_date_in_the_policys_zone(
    catalog, account_manager, frozen_now
):
    """The expiry task at the suite's instant (it runs hourly, in UTC): a balance expires
    once its contract's termination day has ended in the policy's zone (Chicago for the
    multiplier SLA), not when the UTC date has passed it."""
    today = frozen_now.astimezone(CT).date()
    since = date(frozen_now.year - 1, frozen_now.month, 1)
    contracts = {}
    for name, terminated in (
        ("ended", today - timedelta(days=1)),
        ("ends", today + timedelta(days=1)),
    ):
        customer = CustomerFactory(name=f"Terminated {name}")
        customer.account_managers.add(account_manager)
        contract = ContractFactory(
            customer=customer,
            policy=SLAPolicy.objects.get(code="balto-uptime", version=1),
            start_date=since,
            terminated_on=terminated,
        )
        ContractLineFactory(contract=contract, monthly_fee=D("3000.00"))
        grant(contract, account_manager, "100.00", month=since)
        contracts[name] = contract
    assert expire_credits_on_termination() == 1
    assert expire_credits_on_termination() == 0
    assert customer_balance(contracts["ended"].customer, "USD") == D("0.00")
    assert customer_balance(contracts["ends"].customer, "USD") == D("100.00")
