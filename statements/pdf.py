"""The statement as a PDF: ``render_statement_pdf(statement) -> bytes``, pure apart from
reading the statement's credits (their decisions come after the snapshot).

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
from django.utils.safestring import mark_safe

from credits.models import Credit
from slaportal.formatting import minutes_text
from slaportal.money import format_money
from statements.charts import daily_downtime_svg
from statements.models import Statement
from statements.selectors import statement_credits

STYLESHEET = "css/statement.css"
TEMPLATE = "statements/pdf/statement.html"

DECISIONS = {
    Credit.Status.APPROVED: "Granted",
    Credit.Status.REJECTED: "Not granted",
    Credit.Status.INELIGIBLE: "Not eligible",
    Credit.Status.PENDING: "Awaiting approval",
}


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
            judged = counts["met"] + counts["breached"]
            counts["attainment"] = (
                f"{Decimal(counts['met'] * 100) / judged:.1f} %" if judged else "—"
            )
            row[clock] = counts
        rows.append(row)
    return rows


def _credits(statement: Statement, snapshot: dict) -> tuple[list[dict], list[dict]]:
    """Each credit with its decision now, and the invoice adjustment lines it makes."""
    currency = snapshot["currency"]
    live = {c.pk: c for c in statement_credits(statement)} if statement.pk else {}
    earlier: dict[int, list[Credit]] = {}
    if statement.supersedes_id:
        for credit in statement_credits(statement.supersedes):
            if credit.status == Credit.Status.APPROVED and credit.amount > 0:
                earlier.setdefault(credit.service_id, []).append(credit)
    month = snapshot["period"]["label"]
    credits, lines = [], []
    for row in snapshot["credits"]:
        credit = live.get(row["credit_id"])
        status = credit.status if credit else row["status"]
        reason = credit.reason if credit else row["reason"]
        amount = Decimal(row["amount"])
        credits.append(
            {
                **row,
                "amount_text": format_money(amount, currency),
                "decision": DECISIONS.get(status, status),
                "status_now": status,
                "reason_now": reason,
            }
        )
        if status != Credit.Status.APPROVED:
            continue
        if amount > 0:
            lines.append(
                {
                    "description": f"Service credit — {row['service']}, {month}",
                    "amount": -amount,
                }
            )
        for old in earlier.get(row["service_id"], []):
            lines.append(
                {
                    "description": f"Reversal of the earlier credit for {row['service']} "
                    f"(statement {statement.supersedes.number})",
                    "amount": old.amount,
                }
            )
    for line in lines:
        sign = "−" if line["amount"] < 0 else "+"
        line["amount_text"] = sign + format_money(abs(line["amount"]), currency)
    return credits, lines


def statement_context(statement: Statement) -> dict:
    """Everything the PDF template shows, from the snapshot and the credits' decisions."""
    snapshot = statement.snapshot
    zone = ZoneInfo(snapshot["period"]["zone"])
    credits, lines = _credits(statement, snapshot)
    total = sum((line["amount"] for line in lines), Decimal(0))
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
    return {
        "statement": statement,
        "s": snapshot,
        "issued_on": issued.astimezone(zone).date() if issued else None,
        "period_from": _local(snapshot["period"]["start"], zone),
        "period_to": _local(snapshot["period"]["end"], zone),
        "services": services,
        "support": _support(snapshot),
        "credits": credits,
        "preview": preview,
        "credit_total_text": format_money(Decimal(snapshot["credit_total"]), currency),
        "adjustments": lines,
        "adjustment_total": total,
        "adjustment_total_text": ("−" if total < 0 else "+" if total > 0 else "")
        + format_money(abs(total), currency),
        "awaiting": any(c["status_now"] == Credit.Status.PENDING for c in credits),
        "is_draft": statement.status == Statement.Status.DRAFT,
    }
