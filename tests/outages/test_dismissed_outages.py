"""A dismissed outage (a false alarm) never counts: not in a contract's figures, whatever
writes the dismissal, and the stored facts of its month are stale from that moment."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from outages.models import Outage
from outages.selectors import contract_availability
from tests.support.factories import CustomerFactory, catalog_contract

JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


@pytest.fixture
def acme(catalog):
    customer = CustomerFactory(name="Acme")
    return catalog_contract(customer, "heretto-ccms", {"CCMS": "1000.00"}, reference="C-ACME")


def _downtime(contract) -> int:
    (row,) = contract_availability(contract, JUNE, now=NOW)
    return row.result.downtime_seconds


def test_dismissing_an_outage_takes_its_downtime_out_of_the_figures_at_once(acme):
    service = acme.services.get()
    start = datetime(2026, 6, 10, 10, tzinfo=UTC)
    outage = Outage.objects.create(
        service=service,
        started_at=start,
        ended_at=start.replace(hour=11),
        category="internal",
        title="Probe failing",
    )
    assert _downtime(acme) == 3600  # read once: the month's facts are stored now
    Outage.objects.filter(pk=outage.pk).update(
        dismissed_at=datetime(2026, 6, 10, 12, tzinfo=UTC), dismiss_reason="Probe misconfigured"
    )
    assert _downtime(acme) == 0
    Outage.objects.filter(pk=outage.pk).update(dismissed_at=None, dismiss_reason="")
    assert _downtime(acme) == 3600
