"""Alert intake: what a monitoring system's alerts do to outages.

An alert is known by its source, its fingerprint (Alertmanager's hash of its label set)
and the moment it started firing; every delivery of it lands on one ``Alert`` row. The
first delivery of a routed alert opens an unconfirmed outage (``source=alert``) that
started at the alert's ``startsAt``; its resolution ends that outage at ``endsAt``.
Alertmanager repeats a group's alerts, and an alert matched by several routes of its
configuration arrives in several groups' payloads: each of those finds the row and
changes nothing (no second outage, no new timeline entry).

The labels find the service through ``AlertRoute`` (the mapping table staff edit), tried
by position; a route names a source or applies to every source. An alert no route
matches is kept with no outage, so staff see it on /ops/alerts/ and add a route; its next
delivery is routed then.

Atomicity: the payload's shape is checked whole before anything is written (a malformed
payload is a 400 and writes nothing). Then each alert is written in a transaction of its
own: an alert refused on its values (a start in the future, an end before its start)
leaves the payload's other alerts stored, and a delivery repeated after a failure finds
those stored and changes nothing for them, so Alertmanager's retries are safe.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from outages.models import Alert, AlertRoute, AlertSource, Outage
from outages.services import outage_close, outage_record

log = logging.getLogger("outages.alerts")

# A monitoring system's clock may run a little ahead of ours: a start up to this far in
# the future is read as now; beyond it the alert is refused (a wrong clock, not an outage).
CLOCK_SKEW = timedelta(minutes=5)
OPENED, RESOLVED, UNCHANGED, UNROUTED = "opened", "resolved", "unchanged", "unrouted"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def source_for_token(token: str) -> AlertSource | None:
    """The source whose token this is (active or not), else None. Only the token's
    SHA-256 is stored and looked up, so the lookup reveals nothing of the token; the
    digest is compared once more in constant time all the same."""
    if not token:
        return None
    digest = token_digest(token)
    source = AlertSource.objects.filter(token_sha256=digest).first()
    if source is None or not hmac.compare_digest(source.token_sha256, digest):
        return None
    return source


@dataclass
class IntakeSummary:
    """What one delivery did, alert by alert: the webhook's answer."""

    opened: int = 0
    resolved: int = 0
    unchanged: int = 0
    unrouted: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            OPENED: self.opened,
            RESOLVED: self.resolved,
            UNCHANGED: self.unchanged,
            UNROUTED: self.unrouted,
            "refused": self.refused,
        }


def routes_for(source: AlertSource) -> list[AlertRoute]:
    """The routes that apply to ``source``, in the order they are tried."""
    routes = AlertRoute.objects.filter(Q(source__isnull=True) | Q(source=source))
    return list(routes.select_related("service").order_by("position", "pk"))


def route_for(routes: Iterable[AlertRoute], labels: dict[str, str]) -> AlertRoute | None:
    """The first route whose label has its value among ``labels``."""
    return next((r for r in routes if labels.get(r.label) == r.value), None)


def alerts_receive(
    *, source: AlertSource, alerts: list[dict[str, Any]], now: datetime | None = None
) -> IntakeSummary:
    """Take one delivery's alerts (as ``AlertmanagerAlertSerializer`` parses them) from
    ``source``. The source acts as the system; an inactive one may not."""
    if not source.active:
        raise PermissionDenied("This alert source is inactive.")
    now = now or timezone.now()
    routes = routes_for(source)
    summary = IntakeSummary()
    for alert in alerts:
        try:
            outcome = _receive(source, alert, routes, now)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"alert": exc.messages}
            summary.refused.append(
                {
                    "fingerprint": alert["fingerprint"],
                    "startsAt": alert["startsAt"].isoformat(),
                    "errors": errors,
                }
            )
            log.warning(
                "alert refused",
                extra={
                    "source": source.name,
                    "fingerprint": alert["fingerprint"],
                    "errors": errors,
                },
            )
        else:
            setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary


def _checked_times(alert: dict[str, Any], now: datetime) -> tuple[datetime, datetime | None]:
    """The outage's start and (for a resolved alert) end: the alert's, read as now when
    it lies a little ahead of our clock."""
    starts, ends = alert["startsAt"], alert["endsAt"]
    if starts > now + CLOCK_SKEW:
        raise ValidationError(
            {"startsAt": ["The alert starts in the future; check the sending system's clock."]}
        )
    if alert["status"] != "resolved":
        return min(starts, now), None  # a firing alert's endsAt is Alertmanager's timeout
    if ends <= starts:
        raise ValidationError({"endsAt": ["An alert must end after it starts."]})
    if ends > now + CLOCK_SKEW:
        raise ValidationError(
            {"endsAt": ["The alert ends in the future; check the sending system's clock."]}
        )
    started, ended = min(starts, now), min(ends, now)
    if ended <= started:
        raise ValidationError({"endsAt": ["The alert must end after it starts."]})
    return started, ended


@transaction.atomic
def _receive(
    source: AlertSource, alert: dict[str, Any], routes: list[AlertRoute], now: datetime
) -> str:
    started, ended = _checked_times(alert, now)
    row = _locked_row(source, alert, now)
    row.annotations = alert["annotations"]
    row.updated_at = max(row.updated_at, now)  # deliveries racing: the latest stays
    newly_resolved = ended is not None and row.ends_at is None
    if newly_resolved:
        row.ends_at = alert["endsAt"]
    if row.outage_id is None and row.route_id is None:
        # Never routed: a route added since its last delivery applies now.
        route = route_for(routes, row.labels)
        if route is None:
            row.save()
            return UNROUTED
        row.route = route
        end = min(row.ends_at, now) if row.ends_at else None  # resolved, now or before
        row.outage = _open(source, row, route, alert, started, end, now)
        row.save()
        return OPENED
    row.save()
    if not newly_resolved:
        # A repeat, a regrouping, or a stale firing delivery of an alert that resolved:
        # an alert once resolved stays resolved.
        return UNCHANGED
    if row.outage_id is not None:
        outage = Outage.objects.select_for_update().get(pk=row.outage_id)
        # Dismissed or not: a false alarm that ended is not left 'ongoing' either. One
        # that staff closed already keeps the end they gave it.
        if outage.ended_at is None:
            outage_close(
                outage=outage,
                ended_at=ended,
                actor=None,
                text="Service restored: the monitoring alert has resolved.",
                now=now,
            )
    return RESOLVED


def _locked_row(source: AlertSource, alert: dict[str, Any], now: datetime) -> Alert:
    """The alert's row, locked until this alert is written, made on its first delivery.
    Two deliveries of one alert at once (regrouped payloads) both find nothing; one
    insert wins, the other waits on the unique index, fails, and reads the winner's row
    (with its outage) once that is committed."""
    key = {"source": source, "fingerprint": alert["fingerprint"], "starts_at": alert["startsAt"]}
    row = Alert.objects.select_for_update().filter(**key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return Alert.objects.create(
                **key,
                labels=alert["labels"],
                annotations=alert["annotations"],
                received_at=now,
                updated_at=now,
            )
    except IntegrityError:
        return Alert.objects.select_for_update().get(**key)


def _title(labels: dict[str, str], annotations: dict[str, str]) -> str:
    title = annotations.get("summary") or labels.get("alertname") or "Monitoring alert"
    return " ".join(title.split())[:200] or "Monitoring alert"


def _notes(source: AlertSource, row: Alert, route: AlertRoute, alert: dict[str, Any]) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(row.labels.items()))
    lines = [
        f"Opened by an alert from {source.name} (route {route.label}={route.value}).",
        f"Fingerprint: {row.fingerprint}",
        f"Labels: {labels}",
    ]
    if alert["annotations"].get("description"):
        lines.append(f"Description: {alert['annotations']['description']}")
    if alert["generatorURL"]:
        lines.append(f"Source: {alert['generatorURL']}")
    return "\n".join(lines)


def _open(
    source: AlertSource,
    row: Alert,
    route: AlertRoute,
    alert: dict[str, Any],
    started: datetime,
    ended: datetime | None,
    now: datetime,
) -> Outage:
    """An unconfirmed outage of the route's service: customers see nothing of it until
    operations confirm it (``outages.selectors.PUBLISHED``)."""
    return outage_record(
        service=route.service,
        started_at=started,
        ended_at=ended,
        category=route.category,
        impact=route.impact,
        title=_title(row.labels, alert["annotations"]),
        internal_notes=_notes(source, row, route, alert),
        source=Outage.Source.ALERT,
        actor=None,
        now=now,
    )
