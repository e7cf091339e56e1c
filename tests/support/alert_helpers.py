"""Alertmanager's webhook payloads (version 4) as tests send them to /hooks/alertmanager/,
and the alert source and route they need."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from outages.alert_config import RouteSpec, alert_route_create, alert_source_create
from outages.models import AlertRoute, AlertSource

HOOK = "/hooks/alertmanager/"
# Two hours before the suite's instant (tests/support/clock.py): a past start.
STARTS = datetime(2026, 11, 18, 13, tzinfo=UTC)
ENDS = datetime(2026, 11, 18, 14, tzinfo=UTC)
FINGERPRINT = "5f9d1c2b3a4e6f70"
ZERO = "0001-01-01T00:00:00Z"  # Go's zero time: Alertmanager's "no end yet"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def alert(
    fingerprint: str = FINGERPRINT,
    *,
    status: str = "firing",
    starts: datetime = STARTS,
    ends: datetime | None = None,
    labels: dict[str, str] | None = None,
    summary: str = "API answers 503",
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels or {"alertname": "ApiDown", "service": "api", "severity": "critical"},
        "annotations": {"summary": summary, "description": "Probe failed from 3 regions."},
        "startsAt": iso(starts),
        "endsAt": iso(ends) if ends else ZERO,
        "generatorURL": "http://prometheus.example/graph?g0.expr=up%3D%3D0",
        "fingerprint": fingerprint,
    }


def payload(*alerts: dict[str, Any], group_key: str = '{}:{alertname="ApiDown"}') -> dict:
    """One notification of a group, as Alertmanager's webhook receiver sends it."""
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "portal",
        "groupLabels": {"alertname": "ApiDown"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }


def deliver(client, body: Any, token: str | None, **headers: str):
    """POST ``body`` (JSON unless already text) to the webhook with ``token``."""
    if token is not None:
        headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {token}")
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(HOOK, data, content_type="application/json", **headers)


def route(service, value: str = "api", **changes: Any) -> AlertRoute:
    spec = {"source": None, "label": "service", "value": value, "service": service}
    return alert_route_create(
        spec=RouteSpec(**{"category": "internal", "impact": "", **spec, **changes}), actor=None
    )


@pytest.fixture(name="alert_source")
def alert_source_fixture(db) -> tuple[AlertSource, str]:
    """An active source and its token."""
    return alert_source_create(name="Alertmanager (prod)", actor=None)
