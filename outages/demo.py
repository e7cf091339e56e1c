"""Three months of demo outages, replayed as they happened (so no month is re-opened).

Idempotent: outages are recognised by title and month and not recorded twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from contracts.models import Customer, Service, User
from outages.models import AlertSource, Outage
from outages.services import outage_close, outage_post_update, outage_record
from slaportal.months import next_month

# (months back, day, local start "HH:MM", minutes, confirm after min, zone, service code,
#  category, title, scoped customer name or None, public update, internal note)
HISTORY = [
    (
        2,
        9,
        "10:15",
        95,
        5,
        "America/New_York",
        "ccms",
        "internal",
        "Editor fails to save topics",
        None,
        "A database failover is in progress.",
        "Primary DB node lost its volume; failover took longer than planned.",
    ),
    (
        2,
        17,
        "22:00",
        150,
        0,
        "America/New_York",
        "ccms",
        "scheduled_maintenance",
        "Planned database upgrade",
        None,
        "Maintenance started as announced.",
        "",
    ),
    (
        2,
        23,
        "13:40",
        50,
        10,
        "America/Chicago",
        "balto-guidance",
        "third_party",
        "Calls not reaching guidance (carrier issue)",
        None,
        "Our telephony carrier reports a regional incident.",
        "Carrier ticket #44812.",
    ),
    (
        1,
        6,
        "08:05",
        260,
        25,
        "America/Chicago",
        "balto-guidance",
        "internal",
        "Real-time guidance unavailable",
        None,
        "Guidance is not loading for agents.",
        "Bad deploy of the streaming gateway; rolled back at 12:25.",
    ),
    (
        1,
        14,
        "02:00",
        45,
        5,
        "America/Chicago",
        "balto-guidance",
        "internal",
        "Overnight gateway restart",
        None,
        "Brief overnight interruption.",
        "",
    ),
    (
        1,
        19,
        "15:30",
        45,
        0,
        "America/New_York",
        "cloud-publishing",
        "internal",
        "Publishing jobs stuck for Acme",
        "Acme Documentation Inc.",
        "Publishing jobs are queued but not running.",
        "Worker pool for Acme's tenant wedged.",
    ),
    (
        1,
        21,
        "14:10",
        270,
        15,
        "America/New_York",
        "ccms",
        "internal",
        "CCMS unavailable after a storage fault",
        None,
        "The CCMS is unavailable; we are restoring service from the standby storage.",
        "Storage array controller fault; the standby took over after a manual check.",
    ),
    (
        1,
        27,
        "11:00",
        120,
        10,
        "America/Chicago",
        "balto-guidance",
        "performance_degradation",
        "Guidance slow to appear",
        None,
        "Guidance cards are delayed by several seconds.",
        "",
    ),
    (
        0,
        3,
        "09:00",
        40,
        3,
        "America/Chicago",
        "balto-reporting",
        "internal",
        "Reports page errors",
        None,
        "The reporting page shows an error.",
        "",
    ),
    (
        0,
        4,
        "04:30",
        35,
        5,
        "America/New_York",
        "ccms",
        "customer_authorized",
        "Data migration window agreed with Globex",
        "Globex Publishing Ltd",
        "Read-only mode during the agreed migration.",
        "",
    ),
]


def _month_back(today: date, months: int) -> date:
    month = today.replace(day=1)
    for _ in range(months):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


@transaction.atomic
def demo_outages(*, today: date, operator: User | None) -> int:
    made = 0
    for (
        back,
        day,
        clock,
        minutes,
        confirm,
        zone,
        code,
        category,
        title,
        scoped,
        public,
        note,
    ) in HISTORY:
        month = _month_back(today, back)
        if month.replace(day=day) >= today or day >= (next_month(month) - month).days:
            continue
        hour, minute = map(int, clock.split(":"))
        start = datetime(month.year, month.month, day, hour, minute, tzinfo=ZoneInfo(zone))
        start = start.astimezone(UTC)
        if Outage.objects.filter(title=title, started_at=start).exists():
            continue
        end = start + timedelta(minutes=minutes)
        customers = list(Customer.objects.filter(name=scoped)) if scoped else []
        outage = outage_record(
            service=Service.objects.get(code=code),
            started_at=start,
            category=category,
            title=title,
            actor=operator,
            confirmed_at=start + timedelta(minutes=confirm),
            announced_at=start - timedelta(days=7) if category == "scheduled_maintenance" else None,
            scope="customers" if customers else "all",
            customers=customers,
            description=public,
            internal_notes=note,
            now=start + timedelta(minutes=confirm),
        )
        if note:
            outage_post_update(
                outage=outage,
                text=note,
                public=False,
                actor=operator,
                now=start + timedelta(minutes=confirm + 5),
            )
        outage_close(outage=outage, ended_at=end, actor=operator, now=end)
        made += 1
    return made


DEMO_SOURCE = "Alertmanager (demo)"


@transaction.atomic
def demo_incidents(*, now: datetime, operator: User | None) -> str | None:
    """What the incident tools look like in use: an alert source with a route, an alert
    that has just opened an unconfirmed outage (the top of /ops/), and a maintenance
    window announced for the days ahead (the status page's upcoming maintenance).
    Idempotent; the source's token is returned only when it is made."""
    from outages.alert_config import RouteSpec, alert_route_create, alert_source_create
    from outages.alert_serializers import AlertmanagerAlertSerializer
    from outages.alerts import alerts_receive

    token = None
    source = AlertSource.objects.filter(name=DEMO_SOURCE).first()
    if source is None:
        source, token = alert_source_create(name=DEMO_SOURCE, actor=operator, now=now)
        spec = RouteSpec(
            source=None,
            label="service",
            value="ccms",
            service=Service.objects.get(code="ccms"),
            category="internal",
        )
        alert_route_create(spec=spec, actor=operator, now=now)
    started = (now - timedelta(minutes=20)).replace(second=0, microsecond=0)
    alert = AlertmanagerAlertSerializer(
        data={
            "status": "firing",
            "labels": {"alertname": "EditorSaveErrors", "service": "ccms"},
            "annotations": {"summary": "Editor save errors above 5 %"},
            "startsAt": started.isoformat(),
            "fingerprint": "demo0editorsave",
        }
    )
    alert.is_valid(raise_exception=True)
    if not Outage.objects.filter(source=Outage.Source.ALERT, ended_at__isnull=True).exists():
        alerts_receive(source=source, alerts=[alert.validated_data], now=now)
    title = "Search index rebuild"
    if not Outage.objects.filter(title=title, started_at__gt=now).exists():
        window = (now + timedelta(days=3)).replace(hour=4, minute=0, second=0, microsecond=0)
        outage_record(
            service=Service.objects.get(code="ccms"),
            started_at=window,
            ended_at=window + timedelta(hours=2),
            announced_at=now,
            category="scheduled_maintenance",
            title=title,
            description="Search may return partial results while the index is rebuilt.",
            actor=operator,
            now=now,
        )
    return token
