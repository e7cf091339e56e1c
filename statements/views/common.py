"""What the customer and staff statement pages share: the PDF download and a statement's
summary read from its snapshot. (The viewer's zone and pagination: ``slaportal.pages``.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime

from slaportal.formatting import minutes_text
from slaportal.money import format_money
from statements.credit_report import credit_report
from statements.models import Statement
from statements.pdf import render_statement_pdf
from statements.stored_pdf import StoredPdfError, read_stored

SECOND = timedelta(seconds=1)


def statement_pdf_bytes(statement: Statement) -> bytes:
    """The stored PDF, checked against its SHA-256 (``StoredPdfError`` when altered or
    missing); one not stored yet (waiting for a credit decision, a draft) is rendered on
    the fly from the snapshot and not kept."""
    if statement.pdf:
        return read_stored(statement)
    return render_statement_pdf(statement)


def pdf_error_page(
    request: HttpRequest, error: StoredPdfError, *, back: str, restore: str | None = None
) -> HttpResponse:
    """What a browser gets instead of an altered (409) or missing (503) PDF."""
    response = render(
        request,
        "statements/pdf_error.html",
        {"statement": error.statement, "error": error, "back": back, "restore": restore},
        status=error.status,
    )
    response["Cache-Control"] = "no-store"
    return response


def pdf_response(statement: Statement) -> HttpResponse:
    """The PDF as an attachment; raises ``StoredPdfError`` for the caller to answer."""
    response = HttpResponse(statement_pdf_bytes(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _outages(rows: list[dict]) -> list[dict]:
    outages = []
    for row in rows:
        started = parse_datetime(row["started_at"] or "")
        ended = parse_datetime(row["ended_at"] or "")
        length = ended - started if started and ended else None
        outages.append(
            {
                **row,
                "started": started,
                "duration": None
                if length is None
                else minutes_text(Fraction(length // SECOND, 60)),
            }
        )
    return outages


def summary(statement: Statement) -> dict[str, Any]:
    """Period, per-service availability and outages as the statement recorded them; each
    credit as it stands now (``statements.credit_report``)."""
    snapshot = statement.snapshot
    currency = statement.currency
    draft = statement.status == Statement.Status.DRAFT
    credits = snapshot.get("preview") if draft else snapshot.get("credits")
    services = [
        {
            **service,
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
    report = credit_report(statement)
    if draft:
        rows = [
            {**row, "amount_text": format_money(Decimal(row["amount"]), currency)}
            for row in credits or []
        ]
    else:
        working = {row["credit_id"]: row for row in credits or []}
        rows = [
            {**line, "working": working.get(line["credit_id"], {}).get("working", [])}
            for line in report["lines"]
        ]
    return {
        "period": snapshot.get("period", {}),
        "outages": outages,
        "policy": snapshot.get("policy", {}),
        "services": services,
        "credits": rows,
        "totals": report["totals"],
        "credit_total": format_money(Decimal(snapshot.get("credit_total", "0")), currency),
        "replaces": snapshot.get("replaces"),
        "draft": draft,
    }
