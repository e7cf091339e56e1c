"""The Statuspage-shaped JSON under /status/api/v2/: it validates against the JSON Schemas
kept in tests/status/statuspage_schema.py, shows public incidents only (never a scoped,
customer-authorised, dismissed or unconfirmed one) and public text only, maps stages and
impact as Statuspage does, and is public, cached, read-only and readable from any origin."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from jsonschema import Draft202012Validator

from outages.models import Outage
from outages.services import outage_close
from tests.status.statuspage_schema import ENDPOINTS
from tests.status.statuspage_world import (
    HIDDEN_TITLES,
    NOW,
    SECRETS,
    V2,
    at,
    build_world,
    get,
    ids,
    record,
)


@pytest.fixture(autouse=True)
def frozen():
    cache.clear()
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
    cache.clear()


@pytest.fixture
def world(db):
    return build_world()


# ---------------------------------------------------------------- shape


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_every_endpoint_validates_against_its_json_schema(client, world, path):
    Draft202012Validator.check_schema(ENDPOINTS[path])
    validator = Draft202012Validator(
        ENDPOINTS[path], format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    body = get(client, path)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert errors == []


def test_the_schemas_reject_what_aggregators_could_not_read(client, world):
    """The schemas are strict enough to matter: an integer id, an unknown status, an
    extra field or a resolved incident without resolved_at all fail."""
    validator = Draft202012Validator(ENDPOINTS["incidents.json"])
    good = get(client, "incidents.json")
    assert validator.is_valid(good)
    for breaks in (
        lambda b: b["incidents"][0].update(id=int(b["incidents"][0]["id"])),
        lambda b: b["incidents"][0].update(status="ongoing"),
        lambda b: b["incidents"][0].update(internal_notes="x"),
        lambda b: b["incidents"][0].update(status="resolved", resolved_at=None),
    ):
        broken = json.loads(json.dumps(good))
        breaks(broken)
        assert not validator.is_valid(broken)


def test_the_summary_gives_the_page_status_components_and_what_is_open(client, world):
    body = get(client, "summary.json")
    assert body["page"] == {
        "id": "sla-portal-demo-provider",
        "name": "SLA Portal Demo Provider",
        "url": "http://testserver/status/",
        "time_zone": "Etc/UTC",
        "updated_at": "2026-11-20T12:00:00Z",  # the hidden outages were recorded now too
    }
    assert body["status"] == {
        "indicator": "major",
        "description": "Some services are partly unavailable",
    }
    components = {c["name"]: c for c in body["components"]}
    assert {name: c["status"] for name, c in components.items()} == {
        "Document Store": "partial_outage",
        "Publishing API": "degraded_performance",
        "Search": "operational",  # its dismissed and unconfirmed outages do not count
        "Tenant Store": "operational",  # its outage is one customer's
        "Webhooks": "operational",
    }
    assert [c["position"] for c in body["components"]] == [1, 2, 3, 4, 5]  # by name
    docs = components["Document Store"]
    assert docs["id"] == str(world["docs"].pk) and docs["position"] == 1
    assert docs["description"] == "Stores the documents."
    assert docs["updated_at"] == "2026-11-20T09:00:00Z"  # when its incident began
    assert components["Webhooks"]["updated_at"] is None
    assert ids(body["incidents"]) == [str(world["ongoing"].pk), str(world["slow"].pk)]
    assert ids(body["scheduled_maintenances"]) == [str(world["upcoming"].pk)]


# ---------------------------------------------------------------- what the public may see


def test_hidden_outages_and_internal_text_never_appear_on_any_endpoint_or_page(client, world):
    hidden_ids = {str(o.pk) for o in world["hidden"]} | {str(world["unannounced"].pk)}
    pages = [reverse("status-page"), reverse("status-feed")]
    pages += [
        reverse("status-incident", args=[world[name].pk])
        for name in ("ongoing", "resolved", "upcoming")
    ]
    for path in ENDPOINTS:
        text = client.get(V2 + path).content.decode()
        for secret in (*SECRETS, *HIDDEN_TITLES, "Quiet window"):
            assert secret not in text, (path, secret)
        body = json.loads(text)
        listed = body.get("incidents", []) + body.get("scheduled_maintenances", [])
        assert not hidden_ids & set(ids(listed)), path
    for url in pages:
        text = client.get(url).content.decode()
        for secret in (*SECRETS, *HIDDEN_TITLES, "Quiet window"):
            assert secret not in text, (url, secret)
    for outage in world["hidden"]:
        assert client.get(reverse("status-incident", args=[outage.pk])).status_code == 404


def test_a_confirmed_alert_outage_is_published_and_a_dismissed_one_never_is(client, world):
    unconfirmed = world["hidden"][3]
    Outage.objects.filter(pk=unconfirmed.pk).update(confirmed_at=at(20, 7, 10))
    body = get(client, "incidents/unresolved.json")
    assert str(unconfirmed.pk) in ids(body["incidents"])
    assert {c["name"]: c["status"] for c in get(client, "components.json")["components"]}[
        "Search"
    ] == "major_outage"
    assert "False alarm" not in client.get(V2 + "incidents.json").content.decode()


# ---------------------------------------------------------------- stages and impact


def test_stages_impact_and_updates_map_as_statuspage_does(client, world):
    incidents = {i["name"]: i for i in get(client, "incidents.json")["incidents"]}
    assert list(incidents) == ["Uploads failing", "Slow publishing", "API errors"]  # newest first
    ongoing = incidents["Uploads failing"]
    assert (ongoing["status"], ongoing["impact"]) == ("monitoring", "major")
    assert ongoing["started_at"] == "2026-11-20T09:00:00Z"
    assert ongoing["created_at"] == "2026-11-20T09:05:00Z"  # its first public update
    assert ongoing["monitoring_at"] == "2026-11-20T11:00:00Z"
    assert ongoing["resolved_at"] is None
    assert ongoing["shortlink"] == f"http://testserver/status/incidents/{world['ongoing'].pk}/"
    assert [(u["status"], u["body"], u["display_at"]) for u in ongoing["incident_updates"]] == [
        ("monitoring", "Fix deployed.", "2026-11-20T11:00:00Z"),
        ("identified", "Cause found.", "2026-11-20T10:00:00Z"),
        ("investigating", "Some uploads fail.", "2026-11-20T09:05:00Z"),
    ]
    assert all(u["incident_id"] == ongoing["id"] for u in ongoing["incident_updates"])
    assert [c["name"] for c in ongoing["components"]] == ["Document Store"]

    slow = incidents["Slow publishing"]
    assert (slow["status"], slow["impact"], slow["monitoring_at"]) == (
        "investigating",
        "minor",
        None,
    )
    resolved = incidents["API errors"]
    assert (resolved["status"], resolved["impact"]) == ("resolved", "critical")
    assert resolved["resolved_at"] == "2026-11-19T09:00:00Z"
    assert resolved["incident_updates"][0]["status"] == "resolved"


def test_unresolved_lists_open_incidents_only_and_closing_one_moves_it(client, world):
    unresolved = ids(get(client, "incidents/unresolved.json")["incidents"])
    assert unresolved == [str(world["ongoing"].pk), str(world["slow"].pk)]
    outage_close(outage=world["slow"], ended_at=at(20, 11, 30), actor=None)
    assert ids(get(client, "incidents/unresolved.json")["incidents"]) == [str(world["ongoing"].pk)]
    closed = {i["id"]: i for i in get(client, "incidents.json")["incidents"]}[str(world["slow"].pk)]
    assert (closed["status"], closed["resolved_at"]) == ("resolved", "2026-11-20T11:30:00Z")
    status = get(client, "status.json")["status"]
    assert status["indicator"] == "major"  # the partial outage remains


def test_a_major_outage_makes_the_indicator_critical(client, world):
    record(world["search"], at(20, 11, 45), title="Search down")
    body = get(client, "status.json")
    assert body["status"] == {
        "indicator": "critical",
        "description": "Some services are unavailable",
    }
