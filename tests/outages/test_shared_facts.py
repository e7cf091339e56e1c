"""The shared facts of a service's month (``outages.shared_facts``): computed once and
stored for every worker, read by the availability page and the API too, and never stale —
database triggers stamp every write they are made of, whatever code makes it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import Contract, ContractLine
from outages import shared_facts
from outages.models import FactsStamp, Outage, ServiceMonthFacts
from outages.selectors import availability_for_month, contract_availability
from tests.support.factories import ContractLineFactory, CustomerFactory, catalog_contract

JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


@pytest.fixture
def acme(catalog):
    customer = CustomerFactory(name="Acme")
    return catalog_contract(customer, "heretto-ccms", {"CCMS": "1000.00"}, reference="C-ACME")


@pytest.fixture
def ccms(acme):
    return acme.services.get()


def _outage(service, start_hour: int, hours: int = 1, **fields) -> Outage:
    start = datetime(2026, 6, 10, start_hour, tzinfo=UTC)
    return Outage.objects.create(
        service=service,
        started_at=start,
        ended_at=start.replace(hour=start_hour + hours),
        category="internal",
        title=fields.pop("title", "Down"),
        **fields,
    )


def _stamp(service) -> int:
    return FactsStamp.objects.filter(service_id=service.pk).values_list("version", flat=True)[0]


def _downtime(contract: Contract) -> int:
    (row,) = contract_availability(contract, JUNE, now=NOW)
    return row.result.downtime_seconds


def test_every_write_the_facts_are_made_of_stamps_the_service_anew(acme, ccms):
    outage = _outage(ccms, 10)
    stamps = [_stamp(ccms)]

    def stamped() -> bool:
        stamps.append(_stamp(ccms))
        return stamps[-1] != stamps[-2]

    Outage.objects.filter(pk=outage.pk).update(ended_at=datetime(2026, 6, 10, 12, tzinfo=UTC))
    assert stamped()
    Outage.objects.filter(pk=outage.pk).update(description="What customers read")
    assert not stamped()  # not a fact the engine reads
    outage.customers.add(acme.customer)
    assert stamped()
    other = catalog_contract(CustomerFactory(), "heretto-ccms", {"CCMS": "10.00"})
    assert stamped()  # one more customer of the service
    Contract.objects.filter(pk=other.pk).update(terminated_on=date(2026, 6, 15))
    assert stamped()
    Contract.objects.filter(pk=other.pk).update(currency="EUR")
    assert not stamped()
    ccms.critical = not ccms.critical
    ccms.save()
    assert stamped()
    ContractLine.objects.filter(contract=other).delete()
    assert stamped()
    Outage.objects.filter(pk=outage.pk).delete()
    assert stamped()


def test_facts_are_stored_once_and_then_read_in_one_query(acme, ccms):
    _outage(ccms, 10)
    shared_facts.forget()
    month_facts = shared_facts.month_facts
    with CaptureQueriesContext(connection) as first:
        computed = month_facts(JUNE, [ccms.pk])
    assert any("COUNT(DISTINCT" in q["sql"] for q in first.captured_queries)
    stored = ServiceMonthFacts.objects.get(service=ccms, month=JUNE)
    assert (stored.version, stored.customers) == (_stamp(ccms), 1)
    with CaptureQueriesContext(connection) as again:
        assert month_facts(JUNE, [ccms.pk])[ccms.pk] is computed[ccms.pk]  # this process's
    assert len(again) == 1
    shared_facts.forget()  # another process, another machine: the stored row, decoded
    with CaptureQueriesContext(connection) as elsewhere:
        facts = month_facts(JUNE, [ccms.pk])[ccms.pk]
    assert len(elsewhere) == 2
    assert [repr(f) for f in facts.shared] == [repr(f) for f in computed[ccms.pk].shared]


def test_an_outage_recorded_after_the_facts_were_computed_counts(acme, ccms):
    _outage(ccms, 10)
    assert _downtime(acme) == 3600
    _outage(ccms, 14, hours=2)  # straight into the table: the trigger still stamps it
    assert _downtime(acme) == 3 * 3600


def test_an_outage_changed_or_rescoped_after_the_facts_were_computed_counts(acme, ccms):
    outage = _outage(ccms, 10)
    assert _downtime(acme) == 3600
    Outage.objects.filter(pk=outage.pk).update(ended_at=datetime(2026, 6, 10, 13, tzinfo=UTC))
    assert _downtime(acme) == 3 * 3600
    other = CustomerFactory(name="Globex")
    ContractLineFactory(contract=catalog_contract(other, "heretto-ccms", {}), service=ccms)
    Outage.objects.filter(pk=outage.pk).update(scope=Outage.Scope.CUSTOMERS)
    outage.customers.add(other)  # now Globex's alone
    assert _downtime(acme) == 0


def test_facts_computed_in_a_rolled_back_transaction_are_never_used_again(acme, ccms):
    """A process keeps what it decoded by version: a version is never handed out twice,
    not even after a rollback, or another change could find the rolled-back facts."""
    with transaction.atomic():
        _outage(ccms, 10, hours=5)
        assert _downtime(acme) == 5 * 3600
        transaction.set_rollback(True)
    _outage(ccms, 10, hours=1)
    assert _downtime(acme) == 3600


def test_the_bulk_run_and_one_contract_give_the_same_figures(acme, ccms):
    _outage(ccms, 10)
    scoped = _outage(ccms, 14, scope=Outage.Scope.CUSTOMERS)
    scoped.customers.add(acme.customer)
    bulk = [row.result for row in availability_for_month(JUNE, now=NOW)]
    assert bulk == [row.result for row in contract_availability(acme, JUNE, now=NOW)]
    assert bulk[0].downtime_seconds == 2 * 3600


@pytest.fixture
def stored_only(monkeypatch):
    """After this, reading an outage row or counting customers fails: only the stored
    facts may be read."""

    def refuse(*args, **kwargs):
        raise AssertionError("recomputed the shared facts")

    def use():
        monkeypatch.setattr(shared_facts, "_outages", refuse)
        monkeypatch.setattr(shared_facts, "_customers", refuse)
        monkeypatch.setattr(Outage.objects, "in_bulk", refuse)

    return use


@pytest.mark.parametrize("url_name", ["ops-contract-availability", "contract-availability"])
def test_the_page_and_the_api_read_the_stored_facts(
    client, operations, acme, ccms, stored_only, url_name
):
    _outage(ccms, 10, title="Database failover")
    shared_facts.month_facts(JUNE, [ccms.pk])
    shared_facts.forget()  # as a web process that never computed them
    stored_only()
    client.force_login(operations)
    response = client.get(reverse(url_name, args=[acme.pk]), {"month": "2026-06"})
    assert response.status_code == 200
    assert "Database failover" in response.content.decode()


def test_the_page_shows_an_outage_recorded_after_it_was_shown(client, operations, acme, ccms):
    _outage(ccms, 10, title="Database failover")
    client.force_login(operations)
    url = reverse("contract-availability", args=[acme.pk])
    first = client.get(url, {"month": "2026-06"}).json()["services"][0]
    _outage(ccms, 14, title="Storage outage")
    second = client.get(url, {"month": "2026-06"}).json()["services"][0]
    assert (first["downtime_seconds"], second["downtime_seconds"]) == (3600, 7200)
    assert [o["title"] for o in second["counted"]] == ["Database failover", "Storage outage"]


def test_contract_availability_reads_no_other_contract(acme, ccms):
    """One contract costs the same queries however many contracts share its service."""
    _outage(ccms, 10)
    contract_availability(acme, JUNE, now=NOW)  # the facts stored
    with CaptureQueriesContext(connection) as few:
        contract_availability(acme, JUNE, now=NOW)
    for _ in range(5):
        ContractLineFactory(
            contract=catalog_contract(CustomerFactory(), "heretto-ccms", {}),
            service=ccms,
            monthly_fee=Decimal("5.00"),
        )
    contract_availability(acme, JUNE, now=NOW)  # stale: counted again and stored
    with CaptureQueriesContext(connection) as many:
        contract_availability(acme, JUNE, now=NOW)
    assert len(many) == len(few)
    assert not any("COUNT(DISTINCT" in q["sql"] for q in many.captured_queries)
