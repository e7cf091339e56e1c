"""What the customer and staff statement pages share: rendering in the viewer's zone,
the PDF download, and a statement's summary read from its snapshot."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from slaportal.money import format_money
from statements.models import Statement
from statements.pdf import render_statement_pdf

PAGE_SIZE = 25


def render_zoned(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render with the viewer's zone active, so every ``|date`` shows their local time."""
    try:
        zone = ZoneInfo(request.user.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    with timezone.override(zone):
        return render(request, template, {**context, "zone": zone.key}, status=status)


def paginate(request: HttpRequest, queryset: QuerySet) -> Page:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def statement_pdf_bytes(statement: Statement) -> bytes:
    """The stored PDF; one not stored yet (waiting for a credit decision, a draft) is
    rendered on the fly from the snapshot and not kept."""
    if statement.pdf:
        with statement.pdf.open("rb") as stored:
            return stored.read()
    return render_statement_pdf(statement)


def pdf_response(statement: Statement) -> HttpResponse:
    response = HttpResponse(statement_pdf_bytes(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _minutes(text: str | None) -> str:
    """``"43200"`` → ``"43,200"``; ``"90.50"`` stays to two places."""
    if not text:
        return "0"
    value = Decimal(text)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def _outages(rows: list[dict]) -> list[dict]:
    outages = []
    for row in rows:
        started = parse_datetime(row["started_at"] or "")
        ended = parse_datetime(row["ended_at"] or "")
        duration = (ended - started).total_seconds() / 60 if started and ended else None
        outages.append(
            {
                **row,
                "started": started,
                "duration": None if duration is None else _minutes(f"{duration:.2f}"),
            }
        )
    return outages


def summary(statement: Statement) -> dict[str, Any]:
    """Period, per-service availability and the credit, as the statement recorded them."""
    snapshot = statement.snapshot
    currency = statement.currency
    draft = statement.status == Statement.Status.DRAFT
    credits = snapshot.get("preview") if draft else snapshot.get("credits")
    services = [
        {
            **service,
            "downtime_text": _minutes(service.get("downtime_minutes")),
            "denominator_text": _minutes(service.get("denominator_minutes")),
            "counted": _outages(service.get("counted", [])),
            "excluded": _outages(service.get("excluded", [])),
        }
        for service in snapshot.get("services", [])
    ]
    outages = sorted(
        (
            {**outage, "service": service["name"], "counted": counted}
            for service in services
            for counted, key in ((True, "counted"), (False, "excluded"))
            for outage in service[key]
        ),
        key=lambda row: (row["started_at"] or "", row["service"]),
    )
    return {
        "period": snapshot.get("period", {}),
        "outages": outages,
        "policy": snapshot.get("policy", {}),
        "services": services,
        "credits": [
            {**row, "amount_text": format_money(Decimal(row["amount"]), currency)}
            for row in credits or []
        ],
        "credit_total": format_money(Decimal(snapshot.get("credit_total", "0")), currency),
        "replaces": snapshot.get("replaces"),
        "draft": draft,
    }
