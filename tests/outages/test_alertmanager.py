"""Alert intake with the real Alertmanager (tests/support/alertmanager.py): alerts fed
through its API reach the portal's webhook as Alertmanager sends them. One firing alert
opens one unconfirmed outage, the same alert again opens no second one, its resolution
ends it; once operations confirm it, the multiplier SLA counts its downtime from the
confirmation, and a dismissed one never counts. Checked through the availability API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from contracts.models import Service
from outages.alert_config import alert_source_create
from outages.models import Alert, Outage
from tests.support.alert_helpers import ENDS, HOOK, STARTS, iso, route
from tests.support.alertmanager import (
    Alertmanager,
    start_alertmanager_fixture,  # noqa: F401  (the start_alertmanager fixture)
    wait_for,
)
from tests.support.api_helpers import API, client_for
from tests.support.factories import CustomerFactory, CustomerUserFactory, catalog_contract
from tests.support.requirements import REQUIRE_SERVICES, need

# 13:00–14:00 UTC is 07:00–08:00 in Chicago: inside the multiplier SLA's measured hours
# (06:00–21:00 Central). Confirmed half-way through, half an hour counts.
CONFIRMED = datetime(2026, 11, 18, 13, 30, tzinfo=UTC)
LABELS = {"alertname": "BaltoDown", "service": "balto", "severity": "critical"}


def _alert(labels=None, **times) -> dict:
    """An alert as Prometheus posts it to Alertmanager's API."""
    return {
        "labels": labels or LABELS,
        "annotations": {"summary": "Balto Platform answers 503"},
        "generatorURL": "http://prometheus.example/graph",
        **{name: iso(value) for name, value in times.items()},
    }


@pytest.fixture
def world(live_server, catalog, start_alertmanager):
    """A multiplier-SLA (Balto Uptime) customer and a tiered-SLA (Heretto CCMS, downtime
    from detection) customer of one service, a route for its alerts, and Alertmanager
    sending to the live portal with the source's token."""
    multiplier = catalog_contract(CustomerFactory(), "balto-uptime", {"Balto Platform": "3000.00"})
    tiered = catalog_contract(CustomerFactory(), "heretto-ccms", {"Balto Platform": "1000.00"})
    service = Service.objects.get(name="Balto Platform")
    route(service, value="balto")
    _, token = alert_source_create(name="Alertmanager", actor=None)
    webhook = live_server.url.replace("//localhost:", "//127.0.0.1:") + HOOK
    return {
        "manager": start_alertmanager(webhook, token),
        "multiplier": multiplier,
        "tiered": tiered,
        "service": service,
    }


def _downtime(contract, service) -> int:
    """The month's counted downtime of ``service`` in seconds, as the contract's customer
    reads it in the availability API."""
    reader = client_for(CustomerUserFactory(customer=contract.customer))
    response = reader.get(f"{API}contracts/{contract.pk}/availability/?month=2026-11")
    assert response.status_code == 200, response.json()
    [row] = [s for s in response.json()["services"] if s["service"] == service.pk]
    return row["downtime_seconds"]


def _opened(manager: Alertmanager) -> Outage:
    return wait_for(lambda: Outage.objects.first(), "the alert's outage", manager)


def _resolved(manager: Alertmanager, outage: Outage) -> Outage:
    def ended():
        outage.refresh_from_db()
        return outage if outage.ended_at else None

    return wait_for(ended, "the outage to end", manager)


def test_a_firing_alert_opens_one_outage_and_a_confirmed_one_counts_from_confirmation(
    world, operations
):
    manager = world["manager"]
    manager.post(_alert(startsAt=STARTS))
    outage = _opened(manager)
    assert (outage.service, outage.started_at, outage.ended_at) == (world["service"], STARTS, None)
    assert outage.is_unconfirmed and outage.title == "Balto Platform answers 503"
    wait_for(lambda: manager.delivered() == 1, "the first notification's answer", manager)

    # The same alert again, beside an alert no route takes: Alertmanager sends its
    # group's next notification with both.
    stray = {**LABELS, "service": "unmapped"}
    manager.post(_alert(startsAt=STARTS), _alert(labels=stray, startsAt=STARTS))
    wait_for(lambda: manager.delivered() == 2, "the group's second notification", manager)
    assert Alert.objects.filter(outage=None).count() == 1  # the stray one, kept
    assert list(Outage.objects.all()) == [outage]
    assert outage.updates.count() == 1

    manager.post(_alert(startsAt=STARTS, endsAt=ENDS))
    assert _resolved(manager, outage).ended_at == ENDS
    # Not confirmed: the multiplier SLA counts nothing yet (downtime starts at confirmation).
    assert _downtime(world["multiplier"], world["service"]) == 0

    confirm = f"{API}outages/{outage.pk}/confirm/"
    response = client_for(operations).post(confirm, {"confirmed_at": iso(CONFIRMED)}, format="json")
    assert response.status_code == 200, response.json()
    assert _downtime(world["multiplier"], world["service"]) == 30 * 60
    assert _downtime(world["tiered"], world["service"]) == 60 * 60  # from detection
    assert Outage.objects.count() == 1
    assert manager.requests() == (3, 0)  # firing, repeated, resolved: each one accepted


def test_a_dismissed_alert_outage_never_counts(world, operations):
    manager = world["manager"]
    manager.post(_alert(startsAt=STARTS))
    outage = _opened(manager)
    manager.post(_alert(startsAt=STARTS, endsAt=ENDS))
    _resolved(manager, outage)
    # Under a policy that counts from detection, an unconfirmed alert's hour counts...
    assert _downtime(world["tiered"], world["service"]) == 60 * 60

    dismiss = f"{API}outages/{outage.pk}/dismiss/"
    response = client_for(operations).post(dismiss, {"reason": "Probe misfired"}, format="json")
    assert response.status_code == 200, response.json()
    # ...and once dismissed, under no policy.
    assert _downtime(world["tiered"], world["service"]) == 0
    assert _downtime(world["multiplier"], world["service"]) == 0


def test_an_alert_regrouped_by_alertmanager_opens_one_outage(
    live_server, catalog, start_alertmanager
):
    # Both groups flush at once: two deliveries of one alert race in the portal, which
    # takes a database that locks rows (SQLite's live server shares one connection
    # between its threads).
    need(
        connection.vendor == "postgresql",
        "needs PostgreSQL (set DATABASE_URL=postgres://…)",
        required=REQUIRE_SERVICES,
    )
    catalog_contract(CustomerFactory(), "balto-uptime", {"Balto Platform": "3000.00"})
    route(Service.objects.get(name="Balto Platform"), value="balto")
    _, token = alert_source_create(name="Alertmanager", actor=None)
    webhook = live_server.url.replace("//localhost:", "//127.0.0.1:") + HOOK
    manager = start_alertmanager(webhook, token, regroup=True)
    manager.post(_alert(startsAt=STARTS))
    wait_for(lambda: manager.delivered() == 2, "both groups' notifications", manager)
    assert Outage.objects.count() == 1 and Alert.objects.count() == 1
    assert manager.requests() == (2, 0)
