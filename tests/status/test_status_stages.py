"""The status page's incident stages and impact, what counts as downtime, published
outages only, and uptime over 30, 90 and 365 days (exact, rounded down)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from outages.models import Outage
from outages.services import outage_close, outage_post_update, outage_record
from slaportal.formatting import percent_cut
from status import selectors
from status.uptime import DEGRADED, OPERATIONAL, OUTAGE, PARTIAL
from tests.support.factories import ServiceFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = 86_400


@pytest.fixture(autouse=True)
def frozen():
    cache.clear()
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
    cache.clear()


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def record(service, start, end=None, *, category="internal", title="Outage", **kw) -> Outage:
    return outage_record(
        service=service,
        started_at=start,
        ended_at=end,
        category=category,
        title=title,
        actor=None,
        **kw,
    )


def page_html(client, url: str | None = None) -> str:
    response = client.get(url or reverse("status-page"))
    assert response.status_code == 200
    return response.content.decode()


def service_block(html: str, name: str) -> str:
    return html.split(f'data-service="{name}"')[1].split("</li>\n      \n")[0]


def card(html: str, title: str) -> str:
    start = html.index(f">{title}</a></h3>")
    return html[start : html.index("</article>", start)]


def test_each_incident_shows_its_stage_and_impact_and_each_update_its_stage(client, db):
    docs = ServiceFactory(name="Document Store")
    outage = record(
        docs, at(11, 20, 9), title="Uploads failing", impact="partial_outage", now=at(11, 20, 9)
    )
    outage_post_update(
        outage=outage,
        text="Cause found.",
        public=True,
        stage="identified",
        actor=None,
        now=at(11, 20, 10),
    )
    outage_post_update(outage=outage, text="Internal only.", public=False, actor=None)

    shown = card(page_html(client), "Uploads failing")
    assert "Stage: </span>Identified</span>" in shown
    assert "◐</span> Partial outage</span>" in shown
    assert shown.index("Identified</span> <time") < shown.index("Cause found.")
    assert "Investigating</span> <time" in shown and "Internal only." not in shown

    incident = page_html(client, reverse("status-incident", args=[outage.pk]))
    assert "<dt>Stage</dt><dd>Identified</dd>" in incident
    assert "<dt>Impact</dt><dd>Partial outage</dd>" in incident

    outage_close(outage=outage, ended_at=at(11, 20, 11), actor=None, text="Fixed.")
    incident = page_html(client, reverse("status-incident", args=[outage.pk]))
    assert "<dt>Stage</dt><dd>Resolved</dd>" in incident
    assert "Resolved</span> <time" in incident  # the closing update's stage


def test_an_open_incident_never_reads_resolved(client, db):
    docs = ServiceFactory(name="Document Store")
    outage = record(docs, at(11, 20, 9), title="Flapping")
    outage_post_update(
        outage=outage, text="Looks fine now.", public=True, stage="resolved", actor=None
    )
    incident = selectors.incident(outage.pk, NOW)
    assert (incident.stage, incident.resolved) == ("monitoring", False)
    assert "Stage: </span>Monitoring</span>" in card(page_html(client), "Flapping")


def test_service_states_and_the_banner_follow_the_impact_of_ongoing_incidents(client, db):
    names = ("Alpha", "Bravo", "Charlie", "Delta", "Echo")
    alpha, bravo, charlie, delta, echo = (ServiceFactory(name=n) for n in names)
    record(alpha, at(11, 20, 9), title="Alpha slow", impact="degraded")
    record(bravo, at(11, 20, 9), title="Bravo half down", impact="partial_outage")
    record(charlie, at(11, 20, 9), title="Charlie half down", impact="partial_outage")
    record(charlie, at(11, 20, 10), title="Charlie slow", category="beta_feature")
    record(
        delta,
        at(11, 20, 11),
        at(11, 20, 13),
        title="Delta upgrade",
        category="scheduled_maintenance",
        announced_at=at(11, 19, 9),
    )
    record(echo, at(11, 19, 9), at(11, 19, 10), title="Echo was down")

    html = page_html(client)
    states = {
        name: service_block(html, name).split('class="state state--')[1].split("</span>")[1]
        for name in names
    }
    assert states == {
        "Alpha": " Degraded performance",
        "Bravo": " Partial outage",
        "Charlie": " Partial outage",  # the worst of its two
        "Delta": " Under maintenance",
        "Echo": " Operational",
    }
    assert "<h1>Some services are partly unavailable</h1>" in html
    record(echo, at(11, 20, 11, 30), title="Echo down")
    assert "<h1>Some services are unavailable</h1>" in page_html(client)


def test_degraded_impact_and_degrading_causes_never_lower_uptime(client, db):
    """Downtime needs both an unavailability cause and an outage impact."""
    alpha, bravo, charlie = (ServiceFactory(name=n) for n in ("Alpha", "Bravo", "Charlie"))
    # An internal fault that only slowed the service: shown degraded, not downtime.
    record(alpha, at(11, 19, 8), at(11, 19, 14), title="Slow database", impact="degraded")
    # A slow-but-usable cause recorded with a major impact: the cause decides the bars.
    record(
        bravo,
        at(11, 19, 8),
        at(11, 19, 14),
        title="Slow search",
        category="performance_degradation",
        impact="major_outage",
    )
    # A partial outage of an internal cause is downtime.
    record(charlie, at(11, 19, 8), at(11, 19, 14), title="Half down", impact="partial_outage")

    statuses = {s.service.name: s for s in selectors.status_overview(NOW)["services"]}
    nineteenth = {name: s.bars.days[-2] for name, s in statuses.items()}
    assert {name: (bar.state, bar.down) for name, bar in nineteenth.items()} == {
        "Alpha": (DEGRADED, 0),
        "Bravo": (DEGRADED, 0),
        "Charlie": (OUTAGE, 6 * 3600),
    }
    html = page_html(client)
    assert "19 Nov 2026: 100% uptime — degraded 6 h" in service_block(html, "Alpha")
    assert "19 Nov 2026: 100% uptime — degraded 6 h" in service_block(html, "Bravo")
    assert "19 Nov 2026: 75.000% uptime — outage 6 h" in service_block(html, "Charlie")


def test_uptime_over_30_90_and_365_days_is_exact_and_rounded_down(client, db):
    """Each window ends now (today measured up to noon) and starts at midnight UTC of
    its first day: 30 days from 22 Oct, 90 from 23 Aug, 365 from 21 Nov 2025."""
    docs = ServiceFactory(name="Document Store")
    record(docs, at(11, 19, 23, 30), at(11, 20, 0, 30), title="Across midnight")  # 1 h
    record(docs, at(9, 1, 10), at(9, 1, 12), title="September")  # 2 h, 80 days ago
    record(docs, at(6, 1, 0), at(6, 1, 6), title="June")  # 6 h
    # 2 h, of which the hour from 21 Nov 2025 00:00 is inside the 365 days.
    record(docs, at(11, 20, 23, year=2025), at(11, 21, 1, year=2025), title="A year ago")
    # Neither counts: maintenance, and an alert outage nobody confirmed.
    record(
        docs,
        at(11, 10, 2),
        at(11, 10, 5),
        title="Upgrade",
        category="scheduled_maintenance",
        announced_at=at(11, 1, 9),
    )
    record(docs, at(11, 12, 2), at(11, 12, 5), title="Unconfirmed", source="alert")

    def expected(days: int, down_hours: int) -> str:
        measured = (days - 1) * DAY + 12 * 3600
        return str(percent_cut(Fraction(measured - down_hours * 3600, measured), 3))

    windows = service_block(page_html(client), "Document Store").split(
        'class="uptime-windows small">'
    )[1]
    assert expected(30, 1) == "99.858"
    assert expected(90, 3) == "99.860"
    assert expected(365, 10) == "99.885"
    for days, percent in ((30, "99.858"), (90, "99.860"), (365, "99.885")):
        assert f"<dt>{days} days</dt><dd><strong>{percent}%</strong></dd>" in windows
    status = selectors.status_overview(NOW)["services"][0]
    assert status.year.last(365).down == 10 * 3600
    assert status.year.last(365).measured == 364 * DAY + 12 * 3600
    assert "99.860%</strong> uptime" in page_html(client)  # the 90 bars' figure, as before
    assert len(status.days) == 90


def test_uptime_of_a_service_without_incidents_is_100_everywhere(client, db):
    ServiceFactory(name="Quiet")
    windows = service_block(page_html(client), "Quiet").split('class="uptime-windows small">')[1]
    assert windows.count("<strong>100%</strong>") == 3


def test_unconfirmed_and_dismissed_outages_are_off_the_page_until_confirmed(client, db):
    search = ServiceFactory(name="Search")
    alert = record(search, at(11, 20, 11), title="Search probe failing", source="alert")
    dismissed = record(search, at(11, 20, 10), title="Probe blip", source="alert")
    Outage.objects.filter(pk=dismissed.pk).update(
        dismissed_at=at(11, 20, 10, 5), dismiss_reason="False alarm"
    )
    html = page_html(client)
    assert "Search probe failing" not in html and "Probe blip" not in html
    assert "<h1>All systems operational</h1>" in html
    assert selectors.status_overview(NOW)["services"][0].state == OPERATIONAL
    for outage in (alert, dismissed):
        assert client.get(reverse("status-incident", args=[outage.pk])).status_code == 404

    Outage.objects.filter(pk=alert.pk).update(confirmed_at=at(11, 20, 11, 10))
    cache.clear()  # a queryset update leaves updated_at alone (the services save)
    html = page_html(client)
    assert "Search probe failing" in html and "Probe blip" not in html
    assert selectors.status_overview(NOW)["services"][0].state == OUTAGE


def test_upcoming_maintenance_shows_its_window_ahead_of_time(client, db, frozen):
    search = ServiceFactory(name="Search")
    record(
        search,
        at(11, 24, 22),
        at(11, 25, 1, 30),
        title="Index rebuild",
        category="scheduled_maintenance",
        announced_at=at(11, 20, 11),
    )
    section = page_html(client).split('id="maintenance-heading"')[1]
    shown = card(section, "Index rebuild")
    assert "Stage: </span>Scheduled</span>" in shown
    assert "Planned 24 Nov 2026, 22:00 – 25 Nov 2026, 01:30 UTC (3 h 30 min)" in shown
    assert "<h1>All systems operational</h1>" in page_html(client)

    frozen.move_to(at(11, 24, 23))
    html = page_html(client)
    assert "Stage: </span>In progress</span>" in card(html, "Index rebuild")
    assert "<h1>Scheduled maintenance in progress</h1>" in html
    assert PARTIAL not in {s.state for s in selectors.status_overview(at(11, 24, 23))["services"]}
