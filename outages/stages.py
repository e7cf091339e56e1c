"""Incident stages and impact: which stages an outage's public updates may give, the
stage it opens at and stands at now, and the impact its cause implies by default."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError

from contracts.models import DowntimeCategory
from outages.models import INCIDENT_STAGES, MAINTENANCE_STAGES, Outage, Stage


def default_impact(category: str) -> str:
    """Slow-but-usable causes degrade a service; any other cause takes it down."""
    degrading = {
        DowntimeCategory.PERFORMANCE_DEGRADATION,
        DowntimeCategory.BETA_FEATURE,
        DowntimeCategory.NON_CRITICAL_WORKFLOW,
        DowntimeCategory.REPORTING_CONFIG,
    }
    return Outage.Impact.DEGRADED if category in degrading else Outage.Impact.MAJOR


def stages_for(outage: Outage) -> tuple[Stage, ...]:
    return MAINTENANCE_STAGES if outage.is_maintenance else INCIDENT_STAGES


def opening_stage(outage: Outage, now: datetime) -> Stage:
    if outage.is_maintenance:
        return Stage.SCHEDULED if outage.started_at > now else Stage.IN_PROGRESS
    return Stage.INVESTIGATING


def current_stage(outage: Outage) -> str:
    """The stage of the outage's latest public update ("" before any)."""
    latest = outage.updates.filter(public=True).order_by("-posted_at", "-pk").first()
    return latest.stage if latest else ""


def checked_stage(outage: Outage, stage: str) -> str:
    allowed = stages_for(outage)
    if stage not in allowed:
        kind = "maintenance" if outage.is_maintenance else "an incident"
        names = ", ".join(s.value for s in allowed)
        raise ValidationError({"stage": [f"The stage of {kind} is one of {names}."]})
    return stage
