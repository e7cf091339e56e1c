"""Every write to alert intake's configuration: the sources that may send alerts and the
routes (the mapping table) from an alert's labels to a service. Operations' and
administrators' (``require_operations``), validated first, atomic and audited.

A source's token is made here, shown once to whoever made it, and stored only as its
SHA-256 (``outages.alerts.token_digest``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.services import audit_record, changed, snapshot
from contracts.models import DowntimeCategory, Service, User
from outages.alerts import token_digest
from outages.models import AlertRoute, AlertSource, Outage
from outages.services import require_operations
from outages.stages import default_impact

ROUTE_FIELDS = ("source", "label", "value", "service", "category", "impact", "position")
NAME_LENGTH = AlertSource._meta.get_field("name").max_length


@transaction.atomic
def alert_source_create(
    *, name: str, actor: User | None, now: datetime | None = None
) -> tuple[AlertSource, str]:
    """A new source and its bearer token (returned once; only its hash is kept)."""
    require_operations(actor, "add alert sources")
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": ["Name the alert source, e.g. “Alertmanager (prod)”."]})
    if len(name) > NAME_LENGTH:
        raise ValidationError({"name": [f"Keep the name to {NAME_LENGTH} characters."]})
    taken = {"name": ["An alert source of this name exists already."]}
    if AlertSource.objects.filter(name__iexact=name).exists():
        raise ValidationError(taken)
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():  # two people adding the same name at once
            source = AlertSource.objects.create(name=name, token_sha256=token_digest(token))
    except IntegrityError:
        raise ValidationError(taken) from None
    audit_record(
        actor=actor,
        action="alert_source.create",
        obj=source,
        changes={"name": {"before": None, "after": name}},
        label=name,
        at=now,
    )
    return source, token


@transaction.atomic
def alert_source_deactivate(
    *, source: AlertSource, actor: User | None, now: datetime | None = None
) -> bool:
    """Refuse the source's alerts from now on (a leaked token, a retired system). False
    when it was inactive already."""
    require_operations(actor, "deactivate alert sources")
    source = AlertSource.objects.select_for_update().get(pk=source.pk)
    if not source.active:
        return False
    source.active = False
    source.save(update_fields=["active"])
    audit_record(
        actor=actor,
        action="alert_source.deactivate",
        obj=source,
        changes={"active": {"before": True, "after": False}},
        label=source.name,
        at=now,
    )
    return True


@dataclass(frozen=True)
class RouteSpec:
    """A route as staff give it; ``impact`` empty: from the cause."""

    source: AlertSource | None
    label: str
    value: str
    service: Service
    category: str
    impact: str = ""
    position: int = 100

    @classmethod
    def of(cls, data: dict[str, Any]) -> RouteSpec:
        return cls(**{name: data[name] for name in ROUTE_FIELDS if name in data})


def _fill(route: AlertRoute, spec: RouteSpec) -> None:
    errors: dict[str, list[str]] = {}
    label, value = spec.label.strip(), spec.value.strip()
    if not label:
        errors["label"] = ["Give the label to match, e.g. service."]
    if not value:
        errors["value"] = ["Give the label's value to match."]
    if spec.category not in DowntimeCategory.values:
        errors["category"] = ["Choose a cause."]
    if spec.impact and spec.impact not in Outage.Impact.values:
        errors["impact"] = ["Choose an impact."]
    if spec.position < 0:
        errors["position"] = ["The position is a whole number from 0."]
    if errors:
        raise ValidationError(errors)
    clash = AlertRoute.objects.filter(source=spec.source, label=label, value=value)
    if clash.exclude(pk=route.pk).exists():
        raise ValidationError(
            {"value": [f"A route for {label}={value} from this source exists already."]}
        )
    route.source, route.label, route.value = spec.source, label, value
    route.service, route.category, route.position = spec.service, spec.category, spec.position
    route.impact = spec.impact or default_impact(spec.category)
    route.full_clean(validate_unique=False, validate_constraints=False)


def _saved(route: AlertRoute) -> AlertRoute:
    try:
        with transaction.atomic():  # the same route added twice at once
            route.save()
    except IntegrityError:
        raise ValidationError(
            {"value": ["A route for this label and value from this source exists already."]}
        ) from None
    return route


@transaction.atomic
def alert_route_create(
    *, spec: RouteSpec, actor: User | None, now: datetime | None = None
) -> AlertRoute:
    require_operations(actor, "edit alert routes")
    route = AlertRoute()
    _fill(route, spec)
    _saved(route)
    audit_record(
        actor=actor,
        action="alert_route.create",
        obj=route,
        changes=changed({}, snapshot(route, ROUTE_FIELDS)),
        label=str(route),
        at=now,
    )
    return route


@transaction.atomic
def alert_route_change(
    *, route: AlertRoute, spec: RouteSpec, actor: User | None, now: datetime | None = None
) -> AlertRoute:
    """Change a route; alerts already routed keep their outages (it applies to alerts
    that arrive from now on)."""
    require_operations(actor, "edit alert routes")
    route = AlertRoute.objects.select_for_update().get(pk=route.pk)
    before = snapshot(route, ROUTE_FIELDS)
    _fill(route, spec)
    _saved(route)
    audit_record(
        actor=actor,
        action="alert_route.change",
        obj=route,
        changes=changed(before, snapshot(route, ROUTE_FIELDS)),
        label=str(route),
        at=now,
    )
    return route


@transaction.atomic
def alert_route_delete(
    *, route: AlertRoute, actor: User | None, now: datetime | None = None
) -> None:
    """Delete a route; outages it opened stay, their alerts forget the route."""
    require_operations(actor, "edit alert routes")
    route = AlertRoute.objects.select_for_update().get(pk=route.pk)
    audit_record(
        actor=actor,
        action="alert_route.delete",
        obj=route,
        changes={
            name: {"before": value, "after": None}
            for name, value in snapshot(route, ROUTE_FIELDS).items()
        },
        label=str(route),
        at=now,
    )
    route.delete()
