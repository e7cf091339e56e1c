"""The staff availability page of a contract: a month's figures per service, the chart
of downtime per day, and the outages counted and not counted, with why.

Times are shown in the viewer's own zone (``User.time_zone``); availability days and
months are the policy's, as the contract measures them. The figures come from the stored
shared facts of the month (``outages.selectors.contract_availability``), the outages'
times too: the page reads no outage rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime

from contracts.models import Contract
from outages.availability import Availability, Day, OutageFact, Verdict
from outages.selectors import LABELS, ServiceMonth, contract_availability
from slaportal import formatting, roles
from slaportal.months import format_month, month_of, next_month, parse_month
from slaportal.pages import render_zoned, viewer_zone
from slaportal.permissions import role_required

availability_roles = role_required(roles.OPERATIONS, roles.ACCOUNT_MANAGER, roles.AGENT)


def _minutes(seconds: int) -> str:
    return formatting.minutes_text(Fraction(seconds, 60))


@dataclass(frozen=True)
class Bar:
    x: str  # SVG coordinates, formatted once here
    y: str
    height: str
    label_x: str
    day: Day
    minutes: str
    labelled: bool
    short: str  # the day as "j M", "j" and "j F Y" (a date: no zone)
    number: str
    full: str


@dataclass(frozen=True)
class Chart:
    """Geometry of the per-day downtime chart (SVG user units)."""

    bars: list[Bar]
    ticks: list[tuple[str, str]]  # (y, label) of the horizontal grid lines
    width: int
    middle: int  # x of the plot's centre
    bar_width: int
    axis_y: int
    summary: str


CHART_SCALES = [5, 10, 15, 30, 60, 90, 120, 180, 240, 360, 480, 720, 960, 1440, 1500]
CHART_LEFT, CHART_TOP, CHART_HEIGHT, CHART_SLOT, CHART_BAR = 56, 12, 150, 34, 22


# Contracts that share their figures share the chart: built once per process.
_CHARTS: dict[tuple[int, str], tuple[Availability, Chart]] = {}
_CHARTS_KEPT = 4_096


def _chart(result: Availability, service: str) -> Chart:
    cached = _CHARTS.get((id(result), service))
    if cached is not None and cached[0] is result:
        return cached[1]
    chart = _draw(result, service)
    if len(_CHARTS) >= _CHARTS_KEPT:
        _CHARTS.clear()
    _CHARTS[id(result), service] = (result, chart)
    return chart


def _draw(result: Availability, service: str) -> Chart:
    days = result.days
    peak = max((d.downtime_seconds for d in days), default=0)
    scale = next((s for s in CHART_SCALES if s * 60 >= peak), CHART_SCALES[-1]) * 60
    axis_y = CHART_TOP + CHART_HEIGHT
    bars = []
    for i, day in enumerate(days):
        height = CHART_HEIGHT * min(day.downtime_seconds, scale) / scale
        if day.downtime_seconds:
            height = max(height, 2)  # a minute of downtime still shows
        x = CHART_LEFT + i * CHART_SLOT + (CHART_SLOT - CHART_BAR) / 2
        bars.append(
            Bar(
                x=f"{x:.1f}",
                y=f"{axis_y - height:.1f}",
                height=f"{height:.1f}",
                label_x=f"{x + CHART_BAR / 2:.1f}",
                day=day,
                minutes=_minutes(day.downtime_seconds),
                labelled=day.day.day == 1 or day.day.day % 5 == 0,
                short=date_format(day.day, "j M"),
                number=str(day.day.day),
                full=date_format(day.day, "j F Y"),
            )
        )
    ticks = [
        (f"{axis_y - CHART_HEIGHT * part:.1f}", f"{_minutes(int(scale * part))} min")
        for part in (0, 0.5, 1)
    ]
    down = [d for d in days if d.downtime_seconds]
    if down:
        worst = max(down, key=lambda d: d.downtime_seconds)
        summary = (
            f"{_minutes(result.downtime_seconds)} minutes of downtime over {len(down)} "
            f"day{'s' if len(down) != 1 else ''}; most on {worst.day.day} {worst.day:%B} "
            f"({_minutes(worst.downtime_seconds)} min)."
        )
    else:
        summary = "no downtime counted on any day."
    return Chart(
        bars=bars,
        ticks=ticks,
        width=CHART_LEFT + len(days) * CHART_SLOT + 8,
        middle=CHART_LEFT + len(days) * CHART_SLOT // 2,
        bar_width=CHART_BAR,
        axis_y=axis_y,
        summary=f"Downtime per day of {service}, {result.month:%B %Y}: {summary}",
    )


# The same outages' rows on every contract's page (every customer of a service shares
# them, hundreds a month): each is built and rendered once per process, per viewer zone
# and permission, so a page costs its figures, not its hundreds of list items.
_VERDICT_ROWS: dict[tuple, dict[str, Any]] = {}
_VERDICT_ROWS_KEPT = 20_000
STARTED = "j M, H:i T"  # as ``|date`` shows it in the viewer's zone (``render_zoned``)


def _verdict_row(v: Verdict, fact: OutageFact | None, linked: bool, zone: ZoneInfo) -> dict:
    key = (v, fact, linked, zone.key)
    row = _VERDICT_ROWS.get(key)
    if row is None:
        label = LABELS.get(v.category, v.category)
        # A category exclusion's reason already names the category.
        why = (
            v.reason if v.reason.startswith(label) else " · ".join(filter(None, [label, v.reason]))
        )
        started = fact.started_at if fact is not None else None
        title = v.title
        if linked:
            title = format_html(
                '<a href="{}">{}</a>', reverse("ops-outage", args=[v.outage_id]), title
            )
        if v.counted:
            when = (
                ""
                if started is None
                else f" · started {date_format(localtime(started, zone), STARTED)}"
            )
            html = format_html(
                '<li>\n<span class="verdict__title">{}</span>\n'
                '<span class="verdict__minutes">{} min</span>\n'
                '<span class="cell-sub">{}{}</span>\n</li>\n',
                title,
                _minutes(v.seconds),
                why,
                when,
            )
        else:
            html = format_html(
                '<li>\n<span class="verdict__title">{}</span>\n'
                '<span class="cell-sub">{}</span>\n</li>\n',
                title,
                why,
            )
        row = {"verdict": v, "started_at": started, "html": html}
        if len(_VERDICT_ROWS) >= _VERDICT_ROWS_KEPT:
            _VERDICT_ROWS.clear()
        _VERDICT_ROWS[key] = row
    return row


def _items(rows: list[dict]) -> str:
    return mark_safe("".join(row["html"] for row in rows))  # noqa: S308 — each escaped


def _service_view(item: ServiceMonth, linked: bool, zone: ZoneInfo) -> dict[str, Any]:
    result = item.result
    target = item.contract.policy.target_availability
    verdicts = [
        _verdict_row(v, item.outages.get(v.outage_id), linked, zone) for v in result.verdicts
    ]
    verdicts.sort(key=lambda row: row["started_at"] or result.period_end)
    return {
        "service": item.service,
        "fee": item.monthly_fee,
        "result": result,
        "target": target,
        "met": result.percent >= Fraction(target),
        "denominator": _minutes(result.denominator_seconds),
        "downtime": _minutes(result.downtime_seconds),
        "removed": _minutes(result.removed_seconds),
        "chart": _chart(result, item.service.name),
        "counted": _items([v for v in verdicts if v["verdict"].counted]),
        "excluded": _items([v for v in verdicts if not v["verdict"].counted]),
    }


@availability_roles
def contract_availability_page(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = get_object_or_404(
        Contract.objects.select_related("customer", "policy__measurement_calendar"),
        pk=contract_id,
    )
    now = timezone.now()
    policy_zone = contract.policy.measurement_calendar.time_zone
    current = month_of(now, policy_zone)
    context: dict[str, Any] = {"contract": contract, "policy_zone": policy_zone}
    try:
        month = parse_month(request.GET["month"]) if request.GET.get("month") else current
    except ValueError as exc:
        context.update(error=str(exc), month_value=request.GET.get("month", ""))
        return render_zoned(request, "ops/availability.html", context, status=400)
    context["month_value"] = format_month(month)
    if month > current:
        context["error"] = (
            f"{month:%B %Y} has not started yet in {policy_zone}; "
            f"figures exist up to {current:%B %Y}."
        )
        return render_zoned(request, "ops/availability.html", context, status=400)
    results = contract_availability(contract, month, now=now)
    previous = (month - timedelta(days=1)).replace(day=1)
    linked = bool(roles.staff_roles(request.user) & {roles.OPERATIONS, roles.ADMIN})
    zone = viewer_zone(request)
    context.update(
        month=month,
        in_progress=month == current,
        previous=format_month(previous),
        following=format_month(next_month(month)) if month < current else None,
        services=[_service_view(item, linked, zone) for item in results],
        can_open_outages=linked,
    )
    return render_zoned(request, "ops/availability.html", context)
