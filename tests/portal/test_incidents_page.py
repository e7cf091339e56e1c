"""The customer's incidents page (/portal/incidents/): the incidents and maintenance that
reach their organisation, ongoing, coming up and recent, with public updates and stages;
never another customer's scoped incident, a dismissed or unconfirmed one, or a word of
an internal note."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from outages.models import Outage
from outages.services import outage_close, outage_post_update, outage_record
from tests.support.factories import (
    ContractLineFactory,
    CustomerFactory,
    CustomerUserFactory,
    StaffFactory,
    make_contract,
)

PAGE = "/portal/incidents/"


@pytest.fixture
def world(db):
    """Acme and Globex share a service; Globex has one of its own."""
    acme = CustomerFactory(name="Acme")
    globex = CustomerFactory(name="Globex")
    shared = make_contract(acme, reference="C-ACME").services.get()
    theirs = make_contract(globex, reference="C-GLOBEX")
    ContractLineFactory(contract=theirs, service=shared)
    return {
        "acme": acme,
        "globex": globex,
        "shared": shared,
        "globex_only": theirs.services.exclude(pk=shared.pk).get(),
        "person": CustomerUserFactory(customer=acme),
    }


@pytest.fixture
def portal(client, world):
    client.force_login(world["person"])
    return client


def record(service, title, *, minutes_ago=30, **kw) -> Outage:
    started = timezone.now() - timedelta(minutes=minutes_ago)
    fields = {"category": "internal", "started_at": started, "actor": None, **kw}
    return outage_record(service=service, title=title, **fields)


def text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_page_shows_incidents_of_every_customer_and_those_scoped_to_us(portal, world):
    everyone = record(world["shared"], "Shared service down", description="Jobs fail.")
    outage_post_update(
        outage=everyone, text="Cause found.", public=True, stage="identified", actor=None
    )
    outage_post_update(outage=everyone, text="Restarted db-3 by hand", public=False, actor=None)
    record(world["shared"], "Acme tenant slow", scope="customers", customers=[world["acme"]])
    page = text(portal.get(PAGE))
    assert "Shared service down" in page and "Jobs fail." in page
    assert "Cause found." in page and "Identified" in page
    assert "Acme tenant slow" in page and "Acme only" in page
    assert "Every customer of" in page
    assert "Restarted db-3" not in page


def test_another_customers_scoped_incident_and_their_own_services_never_show(portal, world):
    record(
        world["shared"], "Globex tenant migration", scope="customers", customers=[world["globex"]]
    )
    record(world["globex_only"], "Globex-only service down")
    page = text(portal.get(PAGE))
    assert "Globex tenant migration" not in page and "Globex-only service down" not in page
    assert "No incidents in the last 90 days." in page

    # Globex's own people see theirs.
    globex_person = CustomerUserFactory(customer=world["globex"])
    portal.force_login(globex_person)
    page = text(portal.get(PAGE))
    assert "Globex tenant migration" in page and "Globex-only service down" in page


def test_dismissed_and_unconfirmed_alerts_never_show_here_nor_on_the_dashboard(portal, world):
    now = timezone.now()
    record(world["shared"], "Probe failed, unconfirmed", source="alert")
    dismissed = record(world["shared"], "Flapping probe", source="alert")
    Outage.objects.filter(pk=dismissed.pk).update(
        confirmed_at=now, dismissed_at=now, dismiss_reason="Probe bug"
    )
    confirmed = record(world["shared"], "Probe failed, confirmed", source="alert")
    Outage.objects.filter(pk=confirmed.pk).update(confirmed_at=now)
    for url in (PAGE, reverse("portal-home")):
        page = text(portal.get(url))
        assert "Probe failed, confirmed" in page
        assert "unconfirmed" not in page and "Flapping probe" not in page


def test_recent_resolved_and_announced_maintenance_show_older_incidents_do_not(portal, world):
    now = timezone.now()
    resolved = record(world["shared"], "Resolved last week", minutes_ago=7 * 24 * 60)
    outage_close(outage=resolved, ended_at=resolved.started_at + timedelta(hours=1), actor=None)
    old_start = now - timedelta(days=120)
    record(
        world["shared"],
        "Long ago",
        started_at=old_start,
        ended_at=old_start + timedelta(hours=1),
        now=old_start + timedelta(hours=2),
    )
    for title, announced in (("Announced upgrade", now), ("Secret upgrade", None)):
        record(
            world["shared"],
            title,
            category="scheduled_maintenance",
            started_at=now + timedelta(days=2),
            ended_at=now + timedelta(days=2, hours=1),
            announced_at=announced,
        )
    page = text(portal.get(PAGE))
    assert "Resolved last week Resolved" in page
    assert "Announced upgrade Scheduled" in page
    assert "Long ago" not in page and "Secret upgrade" not in page


def test_many_incidents_are_paged(portal, world):
    for n in range(12):
        record(world["shared"], f"Blip number {n:02d}", minutes_ago=60 + n)
    first, second = portal.get(PAGE), portal.get(PAGE + "?page=2")
    assert first.content.decode().count('data-testid="incident"') == 10
    assert second.content.decode().count('data-testid="incident"') == 2
    first, second = text(first), text(second)
    assert "Page 1 of 2" in first and "Blip number 00" in first and "Blip number 11" in second


def test_the_page_is_for_customers_people_only(client, world):
    response = client.get(PAGE)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    client.force_login(StaffFactory(role="operations"))
    assert client.get(PAGE).status_code == 403
