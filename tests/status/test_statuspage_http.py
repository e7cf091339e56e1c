"""The Statuspage-shaped JSON over time and over HTTP: maintenance announced, active and
completed; public, read-only, JSON whatever is asked, cached (a hit costs one query),
absolute links per host, documented in the OpenAPI schema, and the 50-incident limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outages.services import outage_post_update
from tests.status.statuspage_schema import ENDPOINTS
from tests.status.statuspage_world import (
    NOW,
    V2,
    at,
    build_world,
    get,
    ids,
    record,
)
from tests.support.factories import ServiceFactory


@pytest.fixture(autouse=True)
def frozen():
    cache.clear()
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
    cache.clear()


@pytest.fixture
def world(db):
    return build_world()


# ---------------------------------------------------------------- maintenance


def test_maintenance_appears_once_announced_then_goes_active_and_completes(client, world, frozen):
    window = str(world["unannounced"].pk)
    assert window not in ids(get(client, "scheduled-maintenances.json")["scheduled_maintenances"])
    assert window not in ids(
        get(client, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    )

    frozen.move_to(at(21, 9, 1))  # announced
    upcoming = get(client, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    assert ids(upcoming) == [str(world["upcoming"].pk), window]  # soonest first
    shown = upcoming[1]
    assert (shown["status"], shown["impact"]) == ("scheduled", "maintenance")
    assert (shown["scheduled_for"], shown["scheduled_until"]) == (
        "2026-11-23T02:00:00Z",
        "2026-11-23T04:00:00Z",
    )
    assert get(client, "scheduled-maintenances/active.json")["scheduled_maintenances"] == []

    frozen.move_to(at(23, 3))  # inside the window (the incidents are still open)
    active = get(client, "scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert [(m["id"], m["status"]) for m in active] == [(window, "in_progress")]
    components = {c["name"]: c["status"] for c in get(client, "components.json")["components"]}
    assert components["Search"] == "under_maintenance"
    assert window not in ids(
        get(client, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    )

    frozen.move_to(at(23, 5))
    every = {
        m["id"]: m for m in get(client, "scheduled-maintenances.json")["scheduled_maintenances"]
    }
    assert (every[window]["status"], every[window]["resolved_at"]) == (
        "completed",
        "2026-11-23T04:00:00Z",
    )
    assert get(client, "scheduled-maintenances/active.json")["scheduled_maintenances"] == []


def test_maintenance_alone_makes_the_indicator_maintenance(client, db, frozen):
    search = ServiceFactory(name="Search")
    record(
        search,
        at(20, 11),
        at(20, 13),
        title="Reindex",
        category="scheduled_maintenance",
        announced_at=at(19, 9),
    )
    body = get(client, "summary.json")
    assert body["status"] == {
        "indicator": "maintenance",
        "description": "Scheduled maintenance in progress",
    }
    assert [m["status"] for m in body["scheduled_maintenances"]] == ["in_progress"]
    assert body["components"][0]["status"] == "under_maintenance"


# ---------------------------------------------------------------- HTTP


def test_the_json_is_public_read_only_and_json_whatever_the_client_asks(client, world):
    assert client.head(V2 + "summary.json").status_code == 200
    for method in ("post", "put", "patch", "delete", "options"):
        response = getattr(client, method)(V2 + "summary.json")
        assert response.status_code == 405, method
        assert response["Allow"] == "GET, HEAD"
    as_html = client.get(V2 + "status.json", HTTP_ACCEPT="text/html")
    assert as_html.status_code == 200 and as_html["Content-Type"] == "application/json"
    with_a_bad_token = client.get(V2 + "status.json", HTTP_AUTHORIZATION="Token not-a-token")
    assert with_a_bad_token.status_code == 200


def test_a_cache_hit_costs_one_query_and_a_new_update_shows_at_once(
    client, world, django_assert_num_queries
):
    get(client, "summary.json")  # builds every endpoint's body
    with django_assert_num_queries(len(ENDPOINTS)):  # the fingerprint, once each
        for path in ENDPOINTS:
            get(client, path)
    outage_post_update(
        outage=world["ongoing"], text="Recovered, watching.", public=True, actor=None
    )
    latest = get(client, "incidents/unresolved.json")["incidents"][0]["incident_updates"][0]
    assert (latest["body"], latest["status"]) == ("Recovered, watching.", "monitoring")


def test_each_host_gets_its_own_absolute_links(client, world, settings):
    settings.ALLOWED_HOSTS = ["status.example.com", "testserver"]
    body = client.get(V2 + "summary.json", HTTP_HOST="status.example.com").json()
    assert body["page"]["url"] == "http://status.example.com/status/"
    assert body["incidents"][0]["shortlink"].startswith("http://status.example.com/status/")
    assert get(client, "summary.json")["page"]["url"] == "http://testserver/status/"


def test_the_status_page_links_the_json_for_developers(client, world):
    html = client.get(reverse("status-page")).content.decode()
    developers = html.split('class="status-developers')[1]
    assert "For developers:" in developers
    assert f'href="{V2}summary.json">Statuspage-compatible JSON</a>' in developers
    assert 'type="application/json"' in html.split("</head>")[0]


def test_the_endpoints_are_documented_in_the_openapi_schema(client, customer_user):
    client.force_login(customer_user)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    operations = {
        path.removeprefix(V2): item["get"]
        for path, item in schema["paths"].items()
        if path.startswith(V2)
    }
    assert sorted(operations) == sorted(ENDPOINTS)
    for operation in operations.values():
        assert operation["tags"] == ["Status (Statuspage v2)"]
        assert "security" not in operation and operation["description"]
        assert set(operation["responses"]) == {"200"}


def test_more_than_fifty_incidents_list_the_fifty_newest(client, db):
    service = ServiceFactory(name="Busy")
    for n in range(55):
        record(service, NOW - timedelta(hours=60 - n), NOW - timedelta(hours=59 - n), title=f"#{n}")
    incidents = get(client, "incidents.json")["incidents"]
    assert len(incidents) == 50
    assert (incidents[0]["name"], incidents[-1]["name"]) == ("#54", "#5")


def test_building_the_json_takes_the_same_queries_however_many_incidents(client, db):
    def misses() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            get(client, "summary.json")
        return len(queries)

    docs, api = ServiceFactory(name="Docs"), ServiceFactory(name="API")
    record(docs, at(20, 11), title="First")
    few = misses()
    for day in range(1, 15):
        outage = record(api if day % 2 else docs, at(day, 8), at(day, 9), title=f"Day {day}")
        outage_post_update(outage=outage, text="Looking.", public=True, actor=None)
    record(api, at(20, 10), title="Second", impact="degraded")
    assert misses() == few <= 8
