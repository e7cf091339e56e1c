"""Reads for the public status page. Everything here is provider-wide and public.

What the public sees, and why:

* Only outages whose scope is **every customer** of the service. Outages scoped to
  chosen customers are left off the page entirely (not even "affecting some
  customers"): the page is the same for everyone and must never let anyone infer who
  else is a customer. Their incident pages are a 404.
* **Customer-authorised** work (category ``customer_authorized``) is never shown: it
  was arranged with one customer and is nobody else's business. Its page is a 404.
* **Scheduled maintenance** is shown as maintenance — in progress, or upcoming once
  announced (``announced_at`` has passed); a future window not yet announced is a 404.
  It does not count as downtime in the uptime bars.
* **Downtime** on the uptime bars is only what made the service unavailable: internal
  faults, third-party and external-network causes. Degradation (slow but usable, beta
  features, non-critical workflows, reporting/configuration) is shown as "degraded"
  and colours the day's bar, but does not lower uptime — the SLA documents do not
  count it as unavailability either.
* Only the public text of an outage: its title, description and the updates marked
  public. Internal notes, internal updates, authors and customers are never read into
  the page's context.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from contracts.models import DowntimeCategory, Service
from outages.intervals import Interval
from outages.models import Outage, OutageUpdate
from slaportal.formatting import duration_text
from status import uptime
from status.uptime import DEGRADED, MAINTENANCE, OPERATIONAL, OUTAGE

C = DowntimeCategory
KIND = {
    C.INTERNAL: OUTAGE,
    C.THIRD_PARTY: OUTAGE,
    C.EXTERNAL_NETWORK: OUTAGE,
    C.PERFORMANCE_DEGRADATION: DEGRADED,
    C.BETA_FEATURE: DEGRADED,
    C.NON_CRITICAL_WORKFLOW: DEGRADED,
    C.REPORTING_CONFIG: DEGRADED,
    C.SCHEDULED_MAINTENANCE: MAINTENANCE,
}
STATE_LABEL = {
    OPERATIONAL: "Operational",
    MAINTENANCE: "Under maintenance",
    DEGRADED: "Degraded performance",
    OUTAGE: "Major outage",
}
KIND_LABEL = {MAINTENANCE: "Maintenance", DEGRADED: "Degraded", OUTAGE: "Outage"}
OVERALL_LABEL = {
    OPERATIONAL: "All systems operational",
    MAINTENANCE: "Scheduled maintenance in progress",
    DEGRADED: "Some services are degraded",
    OUTAGE: "Some services are unavailable",
}
DAYS = 90
HISTORY_PER_PAGE = 10


def public_outages(now: datetime) -> QuerySet[Outage]:
    """Every outage the public may see at ``now`` (see the module docstring)."""
    return (
        Outage.objects.filter(scope=Outage.Scope.ALL, category__in=list(KIND))
        .filter(Q(started_at__lte=now) | Q(announced_at__isnull=False, announced_at__lte=now))
        .select_related("service")
        .only(
            "id",
            "service",
            "service__name",
            "started_at",
            "ended_at",
            "announced_at",
            "category",
            "title",
            "description",
        )
    )


def _public_updates() -> Prefetch:
    return Prefetch(
        "updates",
        queryset=OutageUpdate.objects.filter(public=True)
        .only("id", "outage_id", "posted_at", "text")
        .order_by("-posted_at", "-pk"),
        to_attr="public_updates",
    )


def fingerprint() -> str:
    """One cheap query that changes whenever an outage or its timeline does: any writer
    (services, admin, shell) invalidates the cached page without telling us. Updates have
    no ``updated_at``: their count, newest id and number of public ones catch a new,
    deleted or un-published update at once; an update's text edited in place shows when
    the minute in the cache key moves on."""
    outages = Outage._meta.db_table
    updates = OutageUpdate._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {outages}), (SELECT MAX(updated_at) FROM {outages}),"  # noqa: S608
            f" (SELECT COUNT(*) FROM {updates}), (SELECT MAX(id) FROM {updates}),"
            f" (SELECT COUNT(*) FROM {updates} WHERE public)"
        )
        row = cursor.fetchone()
    return "-".join(str(value) for value in row).replace(" ", "_")


@dataclass
class Incident:
    outage: Outage
    kind: str
    now: datetime

    @property
    def state_label(self) -> str:
        return STATE_LABEL[self.kind]

    @property
    def kind_label(self) -> str:
        return KIND_LABEL[self.kind]

    @property
    def phase(self) -> str:
        started, ended = self.outage.started_at, self.outage.ended_at
        if started > self.now:
            return "Scheduled"
        if ended is None or ended > self.now:
            return "In progress" if self.kind == MAINTENANCE else "Ongoing"
        return "Completed" if self.kind == MAINTENANCE else "Resolved"

    @property
    def resolved(self) -> bool:
        return self.phase in ("Completed", "Resolved")

    @property
    def duration(self) -> str:
        """How long it lasted (so far); for a window ahead, how long it is planned for."""
        started, ended = self.outage.started_at, self.outage.ended_at
        if started > self.now:
            end = ended
        else:
            end = self.now if ended is None else min(ended, self.now)
        if end is None:
            return ""
        return duration_text(end - started)

    @property
    def updates(self) -> list[OutageUpdate]:
        return getattr(self.outage, "public_updates", [])


@dataclass
class ServiceStatus:
    service: Service
    state: str
    bars: uptime.Uptime

    @property
    def state_label(self) -> str:
        return STATE_LABEL[self.state]

    @property
    def uptime_percent(self) -> str:
        return uptime.percent(self.bars.uptime)

    @property
    def days(self) -> list[dict]:
        return [{"bar": bar, "state": bar.state, "label": day_label(bar)} for bar in self.bars.days]


def day_label(bar: uptime.DayBar) -> str:
    parts = [f"{bar.day:%-d %b %Y}: {uptime.percent(bar.uptime)}% uptime"]
    details = [
        f"{name} {duration_text(seconds)}"
        for name, seconds in (
            ("outage", bar.down),
            ("degraded", bar.degraded),
            ("maintenance", bar.maintenance),
        )
        if seconds
    ]
    parts.append(", ".join(details) if details else "no incidents")
    return " — ".join(parts)


def _ongoing(outage: Outage, now: datetime) -> bool:
    return outage.started_at <= now and (outage.ended_at is None or outage.ended_at > now)


def status_overview(now: datetime, page_number: int = 1) -> dict:
    """Everything the status page shows, in a fixed number of queries."""
    window_start = uptime.midnight(now.date() - timedelta(days=DAYS - 1))
    services = list(Service.objects.only("id", "name", "description").order_by("name"))
    recent = list(
        public_outages(now)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=window_start))
        .order_by("started_at", "pk")
    )
    shown = [o for o in recent if _ongoing(o, now) or o.started_at > now]
    prefetch_related_objects(shown, _public_updates())

    intervals: dict[int, dict[str, list[Interval]]] = defaultdict(lambda: defaultdict(list))
    current: dict[int, list[str]] = defaultdict(list)
    for outage in recent:
        if outage.started_at > now:
            continue
        kind = KIND[outage.category]
        intervals[outage.service_id][kind].append(
            Interval(outage.started_at, outage.ended_at or now)
        )
        if _ongoing(outage, now):
            current[outage.service_id].append(kind)
    statuses = [
        ServiceStatus(
            service=service,
            state=uptime.worst(current[service.pk]),
            bars=uptime.day_bars(intervals[service.pk], now=now, days=DAYS),
        )
        for service in services
    ]
    incidents = [
        Incident(o, KIND[o.category], now) for o in shown if KIND[o.category] != MAINTENANCE
    ]
    maintenance = [Incident(o, MAINTENANCE, now) for o in shown if KIND[o.category] == MAINTENANCE]
    overall = uptime.worst(status.state for status in statuses)
    return {
        "now": now,
        "services": statuses,
        "overall": overall,
        "overall_label": OVERALL_LABEL[overall],
        "incidents": sorted(incidents, key=lambda i: i.outage.started_at, reverse=True),
        "maintenance": maintenance,
        "history": incident_history(now, page_number),
        "days": DAYS,
    }


def incident_history(now: datetime, page_number: int) -> Page:
    """Ended incidents and completed maintenance, newest first."""
    ended = public_outages(now).filter(ended_at__lte=now).order_by("-started_at", "-pk")
    page = Paginator(ended, HISTORY_PER_PAGE).get_page(page_number)
    page.object_list = [Incident(o, KIND[o.category], now) for o in page.object_list]
    return page


def incident(outage_id: int, now: datetime) -> Incident | None:
    outage = public_outages(now).prefetch_related(_public_updates()).filter(pk=outage_id).first()
    return None if outage is None else Incident(outage, KIND[outage.category], now)


def feed_incidents(now: datetime, limit: int = 50) -> list[Incident]:
    outages = public_outages(now).prefetch_related(_public_updates()).order_by("-started_at", "-pk")
    return [Incident(o, KIND[o.category], now) for o in outages[:limit]]
