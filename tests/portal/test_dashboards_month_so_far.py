"""The dashboards' "this month so far" at the suite's instant, whatever it is: each
contract is measured in the month its policy's zone is in at that instant, from that
zone's local midnight on the 1st to now, in real (UTC) seconds across a DST change.
``make test-edges`` runs these at the first second of a month in New York and in
Chicago, at the last minute of one, on both US DST change days, on 29 February and at
23:59 UTC on New Year's Eve; the expected figures are worked out here second by
second, independently of the availability engine."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from outages.services import outage_record
from tests.support.factories import CustomerUserFactory, catalog_contract

pytestmark = pytest.mark.edges

TARGET = Fraction(995, 10)
# Heretto CCMS: 24x7, months in New York. Balto: business hours 06:00–21:00 Chicago
# (downtime counts inside them only, from confirmation), months in Chicago.
NEW_YORK = ("C-NY", "heretto-ccms", "Heretto CCMS", "America/New_York", None)
CHICAGO = ("C-CHI", "balto-uptime", "Balto Platform", "America/Chicago", (6, 21))


def _text(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def month_so_far(zone: str, hours, down: tuple[datetime, datetime], now: datetime):
    """(the zone's month at ``now``, its availability so far as the page shows it)."""
    tz = ZoneInfo(zone)
    month = now.astimezone(tz).date().replace(day=1)
    start = datetime(month.year, month.month, 1, tzinfo=tz).astimezone(UTC)
    elapsed = int((now - start).total_seconds())
    downtime, moment = 0, max(down[0], start)
    while moment < min(down[1], now):
        if hours is None or hours[0] <= moment.astimezone(tz).hour < hours[1]:
            downtime += 1
        moment += timedelta(seconds=1)
    # Nothing measured yet (the month began this second) is nothing missed.
    percent = Fraction(elapsed - downtime, elapsed) * 100 if elapsed else Fraction(100)
    return month, percent, f"{Decimal(int(percent * 1000)) / 1000:.3f} %"


@pytest.fixture
def measured(catalog, customer, account_manager, frozen_now):
    """One contract per zone, running for a year before the instant, each with an outage
    in the hours before it: 2 h ending half an hour ago in New York, the last 6 h in
    Chicago (confirmed 10 minutes in)."""
    now = frozen_now
    customer.name = "Northwind Traders"
    customer.save()
    customer.account_managers.add(account_manager)
    since = date(now.year - 1, now.month, 1)
    rows = []
    for (reference, code, service, zone, hours), down in (
        (NEW_YORK, (now - timedelta(minutes=150), now - timedelta(minutes=30))),
        (CHICAGO, (now - timedelta(hours=6), now)),
    ):
        contract = catalog_contract(
            customer, code, {service: "1000.00"}, start=since, reference=reference
        )
        outage_record(
            service=contract.services.get(),
            started_at=down[0],
            ended_at=down[1],
            confirmed_at=down[0] + timedelta(minutes=10) if hours else None,
            category="internal",
            title=f"{service} down",
            actor=None,
            now=now,
        )
        counted_from = down[0] + timedelta(minutes=10) if hours else down[0]
        month, percent, shown = month_so_far(zone, hours, (counted_from, down[1]), now)
        rows.append((service, reference, month, percent, shown))
    return rows


def test_customer_sees_each_contract_in_the_month_of_its_policys_zone(client, customer, measured):
    client.force_login(CustomerUserFactory(customer=customer))
    text = _text(client.get(reverse("portal-home")))
    below = 0
    for service, reference, month, percent, shown in measured:
        status = "On track" if percent >= TARGET else "Below target"
        below += percent < TARGET
        assert f"{service} {month:%B %Y} {reference} {shown} 99.500 % {status}" in text
    assert (f"{below} below target" if below else "All services on track") in text


def test_account_manager_sees_the_same_figures_as_the_reason_for_the_risk(
    client, account_manager, measured
):
    client.force_login(account_manager)
    text = _text(client.get(reverse("am-home")))
    for service, reference, _, percent, shown in measured:
        reason = f"{service} ({reference}) at {shown}, below its 99.500 % target"
        assert (reason in text) == (percent < TARGET), reason
