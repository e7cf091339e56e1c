"""Reads for the public status page. Everything here is provider-wide and public.

What the public sees, and why:

* Only **published** outages (``outages.selectors.PUBLISHED``): never a dismissed one (a
  false alarm), nor one a monitoring alert opened that operations have not confirmed yet.
* Only outages whose scope is **every customer** of the service. Outages scoped to
  chosen customers are left off the page entirely (not even "affecting some
  customers"): the page is the same for everyone and must never let anyone infer who
  else is a customer. Their incident pages are a 404.
* **Customer-authorised** work (category ``customer_authorized``) is never shown: it
  was arranged with one customer and is nobody else's business. Its page is a 404.
* **Scheduled maintenance** is shown as maintenance — in progress, or upcoming once
  announced (``announced_at`` has passed); a future window not yet announced is a 404.
  It does not count as downtime in the uptime bars.
* Only the public text of an outage: its title, description and the updates marked
  public. Internal notes, internal updates, authors and customers are never read into
  the page's context.

Cause and impact are two questions. The **impact** (degraded, partial or major outage)
says how customers see the service *now*: it sets the service's current state, the
banner and the Statuspage JSON. The **cause** (category) says whether the time was
unavailability, as the SLA documents count it: only an internal, third-party or
external-network cause lowers uptime on the bars. The two meet in one rule: time is
**downtime** when its cause is unavailability *and* its impact is a partial or major
outage. A degraded impact never lowers uptime, whatever its cause; a slow-but-usable
cause (performance degradation, beta feature, non-critical workflow, reporting or
configuration) never lowers it, whatever impact was recorded. Both show as "degraded"
on the day's bar. Maintenance is neither: it has a bar colour of its own.
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
from outages.models import Outage, OutageUpdate, Stage
from outages.selectors import PUBLISHED
from slaportal.formatting import duration_text
from status import uptime
from status.uptime import DEGRADED, MAINTENANCE, OPERATIONAL, OUTAGE, PARTIAL

C = DowntimeCategory
# The cause: what the time counts as on the uptime bars (before its impact is looked at).
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
# The impact: the state an ongoing incident puts its service in.
IMPACT_STATE = {
    Outage.Impact.DEGRADED: DEGRADED,
    Outage.Impact.PARTIAL: PARTIAL,
    Outage.Impact.MAJOR: OUTAGE,
}
STATE_LABEL = {
    OPERATIONAL: "Operational",
    MAINTENANCE: "Under maintenance",
    DEGRADED: "Degraded performance",
    PARTIAL: "Partial outage",
    OUTAGE: "Major outage",
}
SHORT_LABEL = {
    MAINTENANCE: "Maintenance",
    DEGRADED: "Degraded",
    PARTIAL: "Partial outage",
    OUTAGE: "Outage",
}
OVERALL_LABEL = {
    OPERATIONAL: "All systems operational",
    MAINTENANCE: "Scheduled maintenance in progress",
    DEGRADED: "Some services are degraded",
    PARTIAL: "Some services are partly unavailable",
    OUTAGE: "Some services are unavailable",
}
STAGE_LABEL = dict(Stage.choices)
DAYS = 90  # the bars
YEAR = 365  # the longest uptime figure, and so the outages read
UPTIME_WINDOWS = (30, 90, 365)
HISTORY_PER_PAGE = 10


def visible(now: datetime) -> Q:
    """What the public may see at ``now`` (see the module docstring), as one condition."""
    return (
        PUBLISHED
        & Q(scope=Outage.Scope.ALL, category__in=list(KIND))
        & (Q(started_at__lte=now) | Q(announced_at__isnull=False, announced_at__lte=now))
    )


def public_outages(now: datetime) -> QuerySet[Outage]:
    """Every outage the public may see at ``now`` (see the module docstring)."""
    return (
        Outage.objects.filter(visible(now))
        .select_related("service")
        .only(
            "id",
            "service",
            "service__name",
            "started_at",
            "ended_at",
            "announced_at",
            "category",
            "impact",
            "title",
            "description",
            "created_at",
            "updated_at",
        )
    )


def public_updates() -> Prefetch:
    """An outage's public updates, newest first, as ``outage.public_updates``."""
    return Prefetch(
        "updates",
        queryset=OutageUpdate.objects.filter(public=True)
        .only("id", "outage_id", "posted_at", "text", "stage")
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


def bar_kind(outage: Outage) -> str:
    """What the outage's time is on the uptime bars: cause and impact (module docstring)."""
    kind = KIND[outage.category]
    if kind == OUTAGE and outage.impact == Outage.Impact.DEGRADED:
        return DEGRADED
    return kind


@dataclass
class Incident:
    outage: Outage
    now: datetime

    @property
    def maintenance(self) -> bool:
        return self.outage.category == C.SCHEDULED_MAINTENANCE

    @property
    def kind(self) -> str:
        return bar_kind(self.outage)

    @property
    def state(self) -> str:
        """The state it puts its service in while it lasts."""
        return MAINTENANCE if self.maintenance else IMPACT_STATE[self.outage.impact]

    @property
    def state_label(self) -> str:
        return STATE_LABEL[self.state]

    @property
    def short_label(self) -> str:
        return SHORT_LABEL[self.state]

    @property
    def impact_label(self) -> str:
        return "" if self.maintenance else STATE_LABEL[self.state]

    @property
    def upcoming(self) -> bool:
        return self.outage.started_at > self.now

    @property
    def ended(self) -> bool:
        return self.outage.ended_at is not None and self.outage.ended_at <= self.now

    @property
    def phase(self) -> str:
        if self.upcoming:
            return "Scheduled"
        if not self.ended:
            return "In progress" if self.maintenance else "Ongoing"
        return "Completed" if self.maintenance else "Resolved"

    @property
    def resolved(self) -> bool:
        return self.ended

    @property
    def stage(self) -> str:
        """Where it stands: its latest public update's stage, squared with the clock. A
        window ahead is scheduled and an ended one completed, an ended incident resolved,
        whatever was last posted; an open incident is never "resolved" (it still counts
        and still colours its service), so a "resolved" update on it reads "monitoring"."""
        if self.maintenance:
            if self.upcoming:
                return Stage.SCHEDULED
            if self.ended:
                return Stage.COMPLETED
            posted = self._latest_stage()
            return posted if posted == Stage.VERIFYING else Stage.IN_PROGRESS
        if self.ended:
            return Stage.RESOLVED
        posted = self._latest_stage()
        if posted in (Stage.INVESTIGATING, Stage.IDENTIFIED, Stage.MONITORING):
            return posted
        return Stage.MONITORING if posted == Stage.RESOLVED else Stage.INVESTIGATING

    @property
    def stage_label(self) -> str:
        return STAGE_LABEL[self.stage]

    def _latest_stage(self) -> str:
        return next((u.stage for u in self.updates if u.posted_at <= self.now), "")

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
    year: uptime.Uptime  # the last 365 daily bars

    @property
    def state_label(self) -> str:
        return STATE_LABEL[self.state]

    @property
    def bars(self) -> uptime.Uptime:
        return self.year.last(DAYS)

    @property
    def uptime_percent(self) -> str:
        return uptime.percent(self.bars.uptime)

    @property
    def windows(self) -> list[dict]:
        """Uptime over the last 30, 90 and 365 days, rounded down."""
        return [
            {"days": days, "percent": uptime.percent(self.year.last(days).uptime)}
            for days in UPTIME_WINDOWS
        ]

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


def ongoing(outage: Outage, now: datetime) -> bool:
    return outage.started_at <= now and (outage.ended_at is None or outage.ended_at > now)


def current_states(outages: list[Outage], now: datetime) -> dict[int, str]:
    """Each service's state now (services with nothing ongoing are left out)."""
    states: dict[int, list[str]] = defaultdict(list)
    for outage in outages:
        if ongoing(outage, now):
            states[outage.service_id].append(Incident(outage, now).state)
    return {service_id: uptime.worst(found) for service_id, found in states.items()}


def status_overview(now: datetime, page_number: int = 1) -> dict:
    """Everything the status page shows, in a fixed number of queries."""
    year_start = uptime.midnight(now.date() - timedelta(days=YEAR - 1))
    services = list(Service.objects.only("id", "name", "description").order_by("name"))
    recent = list(
        public_outages(now)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=year_start))
        .order_by("started_at", "pk")
    )
    shown = [o for o in recent if ongoing(o, now) or o.started_at > now]
    prefetch_related_objects(shown, public_updates())

    intervals: dict[int, dict[str, list[Interval]]] = defaultdict(lambda: defaultdict(list))
    for outage in recent:
        if outage.started_at <= now:
            intervals[outage.service_id][bar_kind(outage)].append(
                Interval(outage.started_at, outage.ended_at or now)
            )
    states = current_states(recent, now)
    statuses = [
        ServiceStatus(
            service=service,
            state=states.get(service.pk, OPERATIONAL),
            year=uptime.day_bars(intervals[service.pk], now=now, days=YEAR),
        )
        for service in services
    ]
    incidents = [Incident(o, now) for o in shown]
    overall = uptime.worst(status.state for status in statuses)
    return {
        "now": now,
        "services": statuses,
        "overall": overall,
        "overall_label": OVERALL_LABEL[overall],
        "incidents": sorted(
            (i for i in incidents if not i.maintenance),
            key=lambda i: i.outage.started_at,
            reverse=True,
        ),
        "maintenance": [i for i in incidents if i.maintenance],
        "history": incident_history(now, page_number),
        "days": DAYS,
        "windows": UPTIME_WINDOWS,
    }


def incident_history(now: datetime, page_number: int) -> Page:
    """Ended incidents and completed maintenance, newest first."""
    ended = public_outages(now).filter(ended_at__lte=now).order_by("-started_at", "-pk")
    page = Paginator(ended, HISTORY_PER_PAGE).get_page(page_number)
    page.object_list = [Incident(o, now) for o in page.object_list]
    return page


def incident(outage_id: int, now: datetime) -> Incident | None:
    outage = public_outages(now).prefetch_related(public_updates()).filter(pk=outage_id).first()
    return None if outage is None else Incident(outage, now)


def feed_incidents(now: datetime, limit: int = 50) -> list[Incident]:
    outages = public_outages(now).prefetch_related(public_updates()).order_by("-started_at", "-pk")
    return [Incident(o, now) for o in outages[:limit]]
