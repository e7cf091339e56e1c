"""The status page as data in the shape of Atlassian Statuspage's public API (v2), so
that status aggregators and dashboards written for Statuspage read it unchanged.

The same public outages as the HTML page (``selectors.visible``: published, every
customer's, never customer-authorised work, maintenance once announced), with public
text only. How our records map onto Statuspage's words:

* A **component** is a service; its ``status`` is the service's current state
  (``operational``, ``degraded_performance``, ``partial_outage``, ``major_outage``,
  ``under_maintenance``). Groups are not used.
* An **incident** is an outage that is not maintenance; its ``status`` is its stage
  (``investigating``, ``identified``, ``monitoring``, ``resolved``) and its ``impact``
  follows the recorded impact: degraded → ``minor``, partial outage → ``major``, major
  outage → ``critical``.
* A **scheduled maintenance** is a maintenance window (``scheduled``, ``in_progress``,
  ``verifying``, ``completed``; impact ``maintenance``), from ``scheduled_for`` until
  ``scheduled_until`` (null while no end is planned).
* The page **indicator** is the worst state of any service: ``none``, ``maintenance``,
  ``minor``, ``major``, ``critical``.

Every id is a string. What we do not record is null (a component's ``created_at``;
``affected_components`` of an update), never made up. All times are UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Max, Q, prefetch_related_objects

from contracts.models import DowntimeCategory, Service
from outages.models import Outage, Stage
from status.selectors import (
    OVERALL_LABEL,
    Incident,
    current_states,
    public_outages,
    public_updates,
    visible,
)
from status.uptime import DEGRADED, MAINTENANCE, OPERATIONAL, OUTAGE, PARTIAL, worst

LIMIT = 50  # Statuspage's lists hold the 50 most recent
TIME_ZONE = "Etc/UTC"
COMPONENT_STATUS = {
    OPERATIONAL: "operational",
    MAINTENANCE: "under_maintenance",
    DEGRADED: "degraded_performance",
    PARTIAL: "partial_outage",
    OUTAGE: "major_outage",
}
INDICATOR = {
    OPERATIONAL: "none",
    MAINTENANCE: "maintenance",
    DEGRADED: "minor",
    PARTIAL: "major",
    OUTAGE: "critical",
}
IMPACT = {
    Outage.Impact.DEGRADED: "minor",
    Outage.Impact.PARTIAL: "major",
    Outage.Impact.MAJOR: "critical",
}
MAINTENANCE_IMPACT = "maintenance"
MAINTENANCE_CATEGORY = DowntimeCategory.SCHEDULED_MAINTENANCE


@dataclass(frozen=True)
class Site:
    """Where the page is served: its links are absolute, for whoever reads them."""

    page_id: str
    name: str
    url: str
    incident_url: Callable[[int], str]


def snapshot(now: datetime, site: Site) -> dict[str, dict[str, Any]]:
    """Every endpoint's body at ``now`` (plain values: the serializers render them), in
    a fixed number of queries: services, open and upcoming outages, the 50 newest
    incidents, the 50 newest maintenance windows, their public updates, and when each
    service last changed state."""
    maintenance = Q(category=MAINTENANCE_CATEGORY)
    newest = ("-started_at", "-pk")
    open_or_ahead = list(public_outages(now).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now)))
    recent_incidents = list(public_outages(now).exclude(maintenance).order_by(*newest)[:LIMIT])
    recent_windows = list(public_outages(now).filter(maintenance).order_by(*newest)[:LIMIT])
    by_id = {o.pk: o for o in [*open_or_ahead, *recent_incidents, *recent_windows]}
    prefetch_related_objects(list(by_id.values()), public_updates())

    states = current_states(open_or_ahead, now)
    changed = _last_changes(now)
    services = Service.objects.only("id", "name", "description").order_by("name")
    components = {
        service.pk: _component(
            service, position, states.get(service.pk, OPERATIONAL), changed.get(service.pk), site
        )
        for position, service in enumerate(services, start=1)
    }

    def incidents(outages: Iterable[Outage]) -> list[dict[str, Any]]:
        return [_incident(Incident(by_id[o.pk], now), components, site) for o in outages]

    def soonest(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda item: (item["scheduled_for"], item["id"]))

    unresolved = incidents(
        sorted(
            (o for o in open_or_ahead if o.category != MAINTENANCE_CATEGORY),
            key=lambda o: (o.started_at, o.pk),
            reverse=True,
        )
    )
    windows = incidents(o for o in open_or_ahead if o.category == MAINTENANCE_CATEGORY)
    upcoming = soonest([w for w in windows if w["status"] == Stage.SCHEDULED])
    active = soonest([w for w in windows if w["status"] != Stage.SCHEDULED])
    every_incident = incidents(recent_incidents)
    every_window = incidents(recent_windows)

    overall = worst(states.values())
    moments = [c["updated_at"] for c in components.values() if c["updated_at"]]
    moments += [i["updated_at"] for i in [*every_incident, *every_window, *unresolved, *windows]]
    page = {
        "id": site.page_id,
        "name": site.name,
        "url": site.url,
        "time_zone": TIME_ZONE,
        # When anything on the page last changed; a page that never had an incident is
        # simply as of now.
        "updated_at": max(moments, default=now),
    }
    status = {"indicator": INDICATOR[overall], "description": OVERALL_LABEL[overall]}
    listed = list(components.values())
    return {
        "summary": {
            "page": page,
            "components": listed,
            "incidents": unresolved,
            "scheduled_maintenances": active + upcoming,
            "status": status,
        },
        "status": {"page": page, "status": status},
        "components": {"page": page, "components": listed},
        "incidents": {"page": page, "incidents": every_incident},
        "unresolved": {"page": page, "incidents": unresolved},
        "maintenances": {"page": page, "scheduled_maintenances": every_window},
        "upcoming": {"page": page, "scheduled_maintenances": upcoming},
        "active": {"page": page, "scheduled_maintenances": active},
    }


def _last_changes(now: datetime) -> dict[int, datetime]:
    """When each service's state last changed: the latest start or end, up to now, of
    its public outages (one aggregate query)."""
    rows = (
        Outage.objects.filter(visible(now), started_at__lte=now)
        .values("service_id")
        .annotate(started=Max("started_at"), ended=Max("ended_at", filter=Q(ended_at__lte=now)))
    )
    return {
        row["service_id"]: max(m for m in (row["started"], row["ended"]) if m is not None)
        for row in rows
    }


def _component(
    service: Service, position: int, state: str, changed: datetime | None, site: Site
) -> dict[str, Any]:
    return {
        "id": str(service.pk),
        "name": service.name,
        "status": COMPONENT_STATUS[state],
        "created_at": None,  # not recorded for a service
        "updated_at": changed,
        "position": position,
        "description": service.description or None,
        "showcase": True,
        "group_id": None,
        "page_id": site.page_id,
        "group": False,
        "only_show_if_degraded": False,
        "start_date": None,
    }


def _incident(
    incident: Incident, components: dict[int, dict[str, Any]], site: Site
) -> dict[str, Any]:
    outage, now = incident.outage, incident.now
    updates = [u for u in incident.updates if u.posted_at <= now]  # newest first
    watching = (Stage.MONITORING, Stage.VERIFYING)
    opened = [outage.created_at, *(u.posted_at for u in updates)]
    if outage.announced_at:
        opened.append(outage.announced_at)
    created = min(opened)
    changes = [created, outage.updated_at, *(u.posted_at for u in updates)]
    changes += [moment for moment in (outage.started_at, outage.ended_at) if moment]
    body: dict[str, Any] = {
        "id": str(outage.pk),
        "name": outage.title,
        "status": incident.stage,
        "impact": MAINTENANCE_IMPACT if incident.maintenance else IMPACT[outage.impact],
        "created_at": created,
        "updated_at": max(moment for moment in changes if moment <= now),
        "monitoring_at": min((u.posted_at for u in updates if u.stage in watching), default=None),
        "resolved_at": outage.ended_at if incident.ended else None,
        "started_at": outage.started_at,
        "shortlink": site.incident_url(outage.pk),
        "page_id": site.page_id,
        "incident_updates": [
            {
                "id": str(update.pk),
                "status": update.stage,
                "body": update.text,
                "incident_id": str(outage.pk),
                "created_at": update.posted_at,
                "updated_at": update.posted_at,
                "display_at": update.posted_at,
                "affected_components": None,  # which components each update changed: not recorded
                "deliver_notifications": True,  # subscribers get every public update
            }
            for update in updates
        ],
        "components": [components[outage.service_id]],
    }
    if incident.maintenance:
        body["scheduled_for"] = outage.started_at
        body["scheduled_until"] = outage.ended_at
    return body
