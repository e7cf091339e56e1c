"""JSON Schemas (draft 2020-12) of the Statuspage-shaped endpoints under /status/api/v2/,
kept here, apart from the code, as the contract that aggregators written for Atlassian
Statuspage's public API v2 rely on: every field they read, of the type they expect, and
nothing else (no internal field may slip in). Ids are strings; times are ISO 8601."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

DATE_TIME: Schema = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
}
MAYBE_DATE_TIME: Schema = {"anyOf": [DATE_TIME, {"type": "null"}]}
ID: Schema = {"type": "string", "minLength": 1}
TEXT: Schema = {"type": "string"}
URL: Schema = {"type": "string", "pattern": r"^https?://"}

COMPONENT_STATUSES = [
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
]
INCIDENT_STATUSES = ["investigating", "identified", "monitoring", "resolved", "postmortem"]
MAINTENANCE_STATUSES = ["scheduled", "in_progress", "verifying", "completed"]
INDICATORS = ["none", "minor", "major", "critical", "maintenance"]
INCIDENT_IMPACTS = ["none", "minor", "major", "critical"]


def closed(properties: Schema) -> Schema:
    """An object with exactly these properties."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def given_status(statuses: list[str], then: Schema, otherwise: Schema) -> Schema:
    """``then`` holds when the object's status is one of ``statuses``, else ``otherwise``."""
    return {
        "if": {"properties": {"status": {"enum": statuses}}},
        "then": {"properties": then},
        "else": {"properties": otherwise},
    }


PAGE = closed(
    {
        "id": ID,
        "name": TEXT,
        "url": URL,
        "time_zone": {"const": "Etc/UTC"},
        "updated_at": DATE_TIME,
    }
)
STATUS = closed({"indicator": {"enum": INDICATORS}, "description": TEXT})
COMPONENT = closed(
    {
        "id": ID,
        "name": TEXT,
        "status": {"enum": COMPONENT_STATUSES},
        "created_at": MAYBE_DATE_TIME,
        "updated_at": MAYBE_DATE_TIME,
        "position": {"type": "integer", "minimum": 1},
        "description": {"type": ["string", "null"]},
        "showcase": {"type": "boolean"},
        "start_date": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
        "group_id": {"type": ["string", "null"]},
        "page_id": ID,
        "group": {"type": "boolean"},
        "only_show_if_degraded": {"type": "boolean"},
    }
)


def update(statuses: list[str]) -> Schema:
    return closed(
        {
            "id": ID,
            "status": {"enum": statuses},
            "body": {"type": "string", "minLength": 1},
            "incident_id": ID,
            "created_at": DATE_TIME,
            "updated_at": DATE_TIME,
            "display_at": DATE_TIME,
            "affected_components": {"anyOf": [array({"type": "object"}), {"type": "null"}]},
            "deliver_notifications": {"type": "boolean"},
        }
    )


COMMON: Schema = {
    "id": ID,
    "name": TEXT,
    "created_at": DATE_TIME,
    "updated_at": DATE_TIME,
    "monitoring_at": MAYBE_DATE_TIME,
    "resolved_at": MAYBE_DATE_TIME,
    "started_at": DATE_TIME,
    "shortlink": URL,
    "page_id": ID,
    "components": {**array(COMPONENT), "minItems": 1},
}


def incident(statuses: list[str] = INCIDENT_STATUSES) -> Schema:
    """An incident in one of ``statuses``: resolved ones, and only they, have resolved_at."""
    return {
        **closed(
            {
                **COMMON,
                "status": {"enum": statuses},
                "impact": {"enum": INCIDENT_IMPACTS},
                "incident_updates": array(update(INCIDENT_STATUSES)),
            }
        ),
        **given_status(
            ["resolved", "postmortem"],
            {"resolved_at": DATE_TIME},
            {"resolved_at": {"type": "null"}},
        ),
    }


def maintenance(statuses: list[str] = MAINTENANCE_STATUSES) -> Schema:
    """A maintenance window in one of ``statuses``: completed ones, and only they, have
    resolved_at."""
    return {
        **closed(
            {
                **COMMON,
                "status": {"enum": statuses},
                "impact": {"enum": ["maintenance", *INCIDENT_IMPACTS]},
                "incident_updates": array(update(MAINTENANCE_STATUSES)),
                "scheduled_for": DATE_TIME,
                "scheduled_until": MAYBE_DATE_TIME,
            }
        ),
        **given_status(
            ["completed"], {"resolved_at": DATE_TIME}, {"resolved_at": {"type": "null"}}
        ),
    }


UNRESOLVED = ["investigating", "identified", "monitoring"]
ACTIVE = ["in_progress", "verifying"]


def body(**properties: Schema) -> Schema:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **closed(properties)}


# Each endpoint's path under /status/api/v2/ → the schema of its body.
ENDPOINTS: dict[str, Schema] = {
    "summary.json": body(
        page=PAGE,
        components=array(COMPONENT),
        incidents=array(incident(UNRESOLVED)),
        scheduled_maintenances=array(maintenance(["scheduled", *ACTIVE])),
        status=STATUS,
    ),
    "status.json": body(page=PAGE, status=STATUS),
    "components.json": body(page=PAGE, components=array(COMPONENT)),
    "incidents.json": body(page=PAGE, incidents={**array(incident()), "maxItems": 50}),
    "incidents/unresolved.json": body(page=PAGE, incidents=array(incident(UNRESOLVED))),
    "scheduled-maintenances.json": body(
        page=PAGE, scheduled_maintenances={**array(maintenance()), "maxItems": 50}
    ),
    "scheduled-maintenances/upcoming.json": body(
        page=PAGE, scheduled_maintenances=array(maintenance(["scheduled"]))
    ),
    "scheduled-maintenances/active.json": body(
        page=PAGE, scheduled_maintenances=array(maintenance(ACTIVE))
    ),
}
