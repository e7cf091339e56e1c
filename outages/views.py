"""Operations back office: outages (list, record, timeline, close, edit) and the staff
availability page of a contract. Thin: parse, call a service or selector, render.

Times are shown in the viewer's own zone (``User.time_zone``); availability days and
months are the policy's, as the contract measures them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts.forms import add_service_errors
from contracts.models import Contract, ContractLine
from outages import services
from outages.availability import Availability, Day
from outages.forms import CloseForm, OutageFilterForm, OutageForm, UpdateForm
from outages.models import Outage, OutageUpdate
from outages.selectors import LABELS, ServiceMonth, contract_availability, outages_for_staff
from slaportal import formatting, roles
from slaportal.months import format_month, month_of, next_month, parse_month
from slaportal.pages import paginate, render_zoned, viewer_zone
from slaportal.permissions import role_required

availability_roles = role_required(roles.OPERATIONS, roles.ACCOUNT_MANAGER, roles.AGENT)


def _minutes(seconds: int) -> str:
    return formatting.minutes_text(Fraction(seconds, 60))


# ---------------------------------------------------------------- outages


@dataclass(frozen=True)
class OutageRow:
    outage: Outage
    duration: str
    scope: str


def _row(outage: Outage, now: datetime) -> OutageRow:
    names = [c.name for c in outage.customers.all()]
    scope = ", ".join(names) if outage.scope == Outage.Scope.CUSTOMERS else "All customers"
    end = outage.ended_at or max(now, outage.started_at)
    # Wall-clock time, so days are days.
    return OutageRow(
        outage, formatting.duration_text(end - outage.started_at, days=True), scope or "—"
    )


@role_required(roles.OPERATIONS)
def outage_list(request: HttpRequest) -> HttpResponse:
    filters = OutageFilterForm(request.GET, zone=viewer_zone(request))
    page, query = paginate(
        request, filters.apply(outages_for_staff().order_by("-started_at", "-pk"))
    )
    now = timezone.now()
    return render_zoned(
        request,
        "ops/outage_list.html",
        {
            "filters": filters,
            "page": page,
            "rows": [_row(outage, now) for outage in page],
            "query": query,
        },
    )


@role_required(roles.OPERATIONS)
def outage_new(request: HttpRequest) -> HttpResponse:
    form = OutageForm(request.POST or None, zone=viewer_zone(request))
    if form.is_bound and form.is_valid():
        try:
            outage = services.outage_record(**form.service_arguments(), actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Outage “{outage.title}” recorded.")
            return redirect("ops-outage", outage_id=outage.pk)
    return render_zoned(request, "ops/outage_form.html", {"form": form, "outage": None})


def _outage(outage_id: int) -> Outage:
    updates = OutageUpdate.objects.select_related("author")
    return get_object_or_404(
        outages_for_staff().prefetch_related(Prefetch("updates", queryset=updates)), pk=outage_id
    )


def _render_detail(
    request: HttpRequest,
    outage: Outage,
    update_form: UpdateForm | None = None,
    close_form: CloseForm | None = None,
) -> HttpResponse:
    zone = viewer_zone(request)
    now = timezone.now()
    if close_form is None:
        close_form = CloseForm(zone=zone, initial={"ended_at": now.replace(second=0)})
    return render_zoned(
        request,
        "ops/outage_detail.html",
        {
            "outage": outage,
            "row": _row(outage, now),
            "updates": outage.updates.all(),
            "update_form": update_form or UpdateForm(),
            "close_form": close_form,
        },
    )


@role_required(roles.OPERATIONS)
def outage_detail(request: HttpRequest, outage_id: int) -> HttpResponse:
    return _render_detail(request, _outage(outage_id))


@role_required(roles.OPERATIONS)
@require_POST
def outage_update(request: HttpRequest, outage_id: int) -> HttpResponse:
    outage = _outage(outage_id)
    form = UpdateForm(request.POST)
    if form.is_valid():
        try:
            services.outage_post_update(outage=outage, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            kind = "Public" if form.cleaned_data["public"] else "Internal"
            messages.success(request, f"{kind} update posted.")
            return redirect("ops-outage", outage_id=outage.pk)
    return _render_detail(request, outage, update_form=form)


@role_required(roles.OPERATIONS)
@require_POST
def outage_close(request: HttpRequest, outage_id: int) -> HttpResponse:
    outage = _outage(outage_id)
    form = CloseForm(request.POST, zone=viewer_zone(request))
    if form.is_valid():
        try:
            services.outage_close(outage=outage, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            if not outage.is_ongoing:  # closed meanwhile: there is no close form to show
                messages.error(request, " ".join(exc.messages))
                return redirect("ops-outage", outage_id=outage.pk)
            add_service_errors(form, exc)
        else:
            messages.success(request, "Outage closed; customers see it as resolved.")
            return redirect("ops-outage", outage_id=outage.pk)
    return _render_detail(request, outage, close_form=form)


@role_required(roles.OPERATIONS)
def outage_edit(request: HttpRequest, outage_id: int) -> HttpResponse:
    outage = get_object_or_404(outages_for_staff(), pk=outage_id)
    form = OutageForm(request.POST or None, zone=viewer_zone(request), outage=outage)
    if form.is_bound and form.is_valid():
        try:
            services.outage_change(outage=outage, actor=request.user, **form.service_arguments())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Outage saved.")
            return redirect("ops-outage", outage_id=outage.pk)
    return render_zoned(request, "ops/outage_form.html", {"form": form, "outage": outage})


# ---------------------------------------------------------------- availability


@availability_roles
def contract_list(request: HttpRequest) -> HttpResponse:
    contracts = Contract.objects.select_related("customer", "policy").prefetch_related(
        Prefetch("lines", queryset=ContractLine.objects.select_related("service"))
    )
    search = request.GET.get("q", "").strip()
    if search:
        contracts = contracts.filter(
            Q(reference__icontains=search) | Q(customer__name__icontains=search)
        )
    page, query = paginate(request, contracts.order_by("customer__name", "reference"))
    return render_zoned(
        request, "ops/contract_list.html", {"page": page, "query": query, "search": search}
    )


@dataclass(frozen=True)
class Bar:
    x: str  # SVG coordinates, formatted once here
    y: str
    height: str
    label_x: str
    day: Day
    minutes: str
    labelled: bool


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


def _chart(result: Availability, service: str) -> Chart:
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


def _service_view(item: ServiceMonth, outages: dict[int, Outage]) -> dict[str, Any]:
    result = item.result
    target = item.contract.policy.target_availability
    verdicts = []
    for v in result.verdicts:
        label = LABELS.get(v.category, v.category)
        # A category exclusion's reason already names the category.
        why = (
            v.reason if v.reason.startswith(label) else " · ".join(filter(None, [label, v.reason]))
        )
        verdicts.append(
            {
                "verdict": v,
                "why": why,
                "minutes": _minutes(v.seconds),
                "outage": outages.get(v.outage_id),
            }
        )
    verdicts.sort(key=lambda row: row["outage"].started_at if row["outage"] else result.period_end)
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
        "counted": [v for v in verdicts if v["verdict"].counted],
        "excluded": [v for v in verdicts if not v["verdict"].counted],
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
    ids = {v.outage_id for item in results for v in item.result.verdicts}
    outages = Outage.objects.in_bulk(ids)
    previous = (month - timedelta(days=1)).replace(day=1)
    context.update(
        month=month,
        in_progress=month == current,
        previous=format_month(previous),
        following=format_month(next_month(month)) if month < current else None,
        services=[_service_view(item, outages) for item in results],
        can_open_outages=bool(roles.staff_roles(request.user) & {roles.OPERATIONS, roles.ADMIN}),
    )
    return render_zoned(request, "ops/availability.html", context)
