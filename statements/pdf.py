"""The statement as a PDF: ``render_statement_pdf(statement) -> bytes``, pure apart from
reading the statement's credits when their states are not stored with it yet (their
decisions come after the snapshot; ``report_for``).

WeasyPrint renders ``templates/statements/pdf/statement.html``. Static files come from
disk only: the fetcher serves ``file:`` URLs under the static directories and
``data:`` URLs, and refuses everything else (no HTTP from a worker, whatever a
template or a customer-supplied title might contain — Django's autoescaping keeps
titles text anyway). One ``FontConfiguration`` and one parsed stylesheet are shared
by every render in the process: a fresh configuration per PDF costs time and leaks
memory (about 0.2 MB per PDF) through fontconfig's caches.
"""

from __future__ import annotations

import logging
import mimetypes
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from slaportal.formatting import minutes_text
from slaportal.money import format_money
from statements.charts import daily_downtime_svg
from statements.credit_report import credit_report
from statements.models import Statement
from statements.selectors import attainment_text

STYLESHEET = "css/statement.css"
TEMPLATE = "statements/pdf/statement.html"


def _static_roots() -> list[Path]:
    return [Path(d).resolve() for d in settings.STATICFILES_DIRS] + [
        Path(settings.STATIC_ROOT).resolve()
    ]


@cache
def _weasy():
    # Imported on first use: WeasyPrint loads Pango and fontconfig, which the web and
    # the API never need. Its step-by-step progress at INFO (from the import on) would
    # flood a worker's log; the "weasyprint" logger itself stays, as it reports missing
    # fonts and slow paths.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):
        """``file:`` under the static directories, and ``data:``; nothing else."""

        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme != "file":
                raise ValueError(f"refused {parsed.scheme or 'relative'} URL in a statement")
            path = Path(unquote(parsed.path)).resolve()
            if not any(path.is_relative_to(root) for root in _static_roots()):
                raise ValueError(f"refused a file outside the static directories: {path}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    fonts = FontConfiguration()
    fetcher = LocalFetcher()
    path = finders.find(STYLESHEET)
    if not path:
        raise FileNotFoundError(f"static file {STYLESHEET} not found")
    css = CSS(filename=path, font_config=fonts, url_fetcher=fetcher)
    base_url = Path(path).resolve().parent.parent.as_uri() + "/"
    return fonts, fetcher, css, base_url


def html_to_pdf(html: str) -> bytes:
    """WeasyPrint on its own, with the shared fonts, stylesheet and fetcher (the bench
    compares this against ``render_statement_pdf`` to measure our overhead)."""
    from weasyprint import HTML

    fonts, fetcher, css, base_url = _weasy()
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[css], font_config=fonts)


def render_statement_pdf(statement: Statement) -> bytes:
    return html_to_pdf(render_statement_html(statement))


def render_statement_html(statement: Statement) -> str:
    return render_to_string(TEMPLATE, statement_context(statement))


# ---------------------------------------------------------------- presentation


def _local(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return "ongoing"
    moment = datetime.fromisoformat(value).astimezone(zone)
    return f"{moment:%d %b %Y %H:%M} {moment.tzname()}"


def _minutes_text(minutes: str | Fraction) -> str:
    return f"{minutes_text(minutes)} min"


def _outages(rows: list[dict], zone: ZoneInfo) -> list[dict]:
    return [
        {
            **row,
            "start": _local(row["started_at"], zone),
            "end": _local(row["ended_at"], zone),
            "minutes_text": _minutes_text(row["minutes"]),
        }
        for row in rows
    ]


def _services(snapshot: dict, zone: ZoneInfo) -> list[dict]:
    services = []
    for row in snapshot["services"]:
        days = [(date.fromisoformat(d["date"]), d["downtime_seconds"]) for d in row["days"]]
        services.append(
            {
                **row,
                "chart": mark_safe(daily_downtime_svg(days)),  # noqa: S308 — numbers only
                "denominator_text": _minutes_text(row["denominator_minutes"]),
                "downtime_text": _minutes_text(row["downtime_minutes"]),
                "removed_text": _minutes_text(Fraction(row["removed_seconds"], 60)),
                "measured_text": _minutes_text(Fraction(row["measured_seconds"], 60)),
                "counted_rows": _outages(row["counted"], zone),
                "excluded_rows": _outages(row["excluded"], zone),
                "partial": row["period_seconds"] != row["month_seconds"],
                "period_from": _local(row["period_start"], zone),
                "period_to": _local(row["period_end"], zone),
            }
        )
    return services


def _support(snapshot: dict) -> list[dict]:
    rows = []
    for stored in snapshot["support"]["severities"]:
        row = dict(stored)  # the snapshot itself is never touched
        for clock in ("response", "resolution"):
            counts = dict(stored[clock])
            counts["attainment"] = attainment_text(counts["met"], counts["breached"])
            row[clock] = counts
        rows.append(row)
    return rows


def report_for(statement: Statement) -> dict:
    """The credits' states a PDF shows: those the stored PDF was rendered with (so a
    re-render reproduces the document), else as they are now."""
    if statement.pdf_credits is not None:
        return statement.pdf_credits
    return credit_report(statement)


def _credits(snapshot: dict, report: dict) -> list[dict]:
    """Each credit as the report has it, with its working from the snapshot."""
    working = {row["credit_id"]: row for row in snapshot.get("credits") or []}
    return [
        {
            **line,
            "band": working.get(line["credit_id"], {}).get("band"),
            "working": working.get(line["credit_id"], {}).get("working", []),
        }
        for line in report["lines"]
    ]


def statement_context(statement: Statement) -> dict:
    """Everything the PDF (and the e-mail) shows: the snapshot, and the credits' states
    from ``report_for``."""
    snapshot = statement.snapshot
    zone = ZoneInfo(snapshot["period"]["zone"])
    is_draft = statement.status == Statement.Status.DRAFT
    report = report_for(statement)
    credits = [] if is_draft else _credits(snapshot, report)
    currency = snapshot["currency"]
    preview = [
        {**row, "amount_text": format_money(Decimal(row["amount"]), currency)}
        for row in snapshot.get("preview") or []
    ]
    services = _services(snapshot, zone)
    by_service = {c["service_id"]: c for c in [*credits, *preview]}
    for service in services:
        service["credit"] = by_service.get(service["service_id"])
    issued = statement.issued_at or statement.created_at
    as_of = datetime.fromisoformat(report["as_of"]).astimezone(zone)
    applications = [
        {**application, "service": line["service"]}
        for line in credits
        for application in line["applications"]
    ]
    return {
        "statement": statement,
        "s": snapshot,
        "issued_on": issued.astimezone(zone).date() if issued else None,
        "period_from": _local(snapshot["period"]["start"], zone),
        "period_to": _local(snapshot["period"]["end"], zone),
        "services": services,
        "support": _support(snapshot),
        "credits": credits,
        "totals": report["totals"],
        "applications": applications,
        "held": [line for line in credits if Decimal(line["remaining"]) > 0],
        "as_of_text": f"{as_of:%d %b %Y %H:%M} {as_of.tzname()}",
        "preview": preview,
        "credit_total_text": format_money(Decimal(snapshot["credit_total"]), currency),
        "awaiting": report["totals"]["awaiting"],
        # Not final: rendered on request while a credit awaits its decision (the stored,
        # e-mailed document waits for every decision).
        "provisional": not is_draft and not statement.pdf and report["totals"]["awaiting"],
        "is_draft": is_draft,
        # Absolute, as the statement e-mail's links are: a PDF is read outside the portal.
        "sla_url": f"{settings.PORTAL_URL}{reverse('portal-sla')}",
    }
