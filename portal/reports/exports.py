"""The attainment report as a table: the cells the page shows, and the same cells as CSV
and as an Excel workbook. One function (``table``) makes the cells, so a download carries
exactly the page's figures; the downloads add the two durations in whole seconds at the
end, for sums in a spreadsheet."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

from portal.reports.attainment import Report, Row
from slaportal.formatting import duration_text
from statements.selectors import attainment_text

SECOND = timedelta(seconds=1)
HEADERS = [
    "Month",
    "Severity",
    "Tickets",
    "First response met",
    "First response breached",
    "First response attained",
    "Median time to first response",
    "90th percentile time to first response",
    "Resolution met",
    "Resolution breached",
    "Resolution attained",
    "Figures from",
]
# Right-aligned on the page: the counts, shares and times.
NUMERIC = frozenset(HEADERS[2:11])
SECONDS_HEADERS = [
    "Median time to first response (business seconds)",
    "90th percentile time to first response (business seconds)",
]
# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): quoted in the CSV.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def duration_cell(value: timedelta | None) -> str:
    """Business time as pages show it ("1 h 5 min"); "—" when no response was timed."""
    return "—" if value is None else duration_text(value)


def seconds(value: timedelta | None) -> int | None:
    return None if value is None else value // SECOND


def source_cell(row: Row) -> str:
    """The issued statements the figures are read from, or "live" for a contract-month
    computed now (its statement not issued yet)."""
    found: list[str] = []
    for source in row.sources:
        text = source.statement or "live"
        if text not in found:
            found.append(text)
    return ", ".join(found)


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str | int]]
    seconds: list[list[int | None]]  # per row: median and 90th percentile, in seconds

    @property
    def numeric(self) -> list[bool]:
        return [header in NUMERIC for header in self.headers]


def table(report: Report, *, with_customer: bool) -> Table:
    """The report's rows as cells (ints for counts, text otherwise)."""
    rows, timed = [], []
    for row in report.rows:
        severity = f"{row.severity} — {row.name}" if len(row.names) == 1 else str(row.severity)
        cells: list[str | int] = [
            f"{row.month:%B %Y}",
            severity,
            row.tickets,
            row.response["met"],
            row.response["breached"],
            attainment_text(row.response["met"], row.response["breached"]),
            duration_cell(row.median),
            duration_cell(row.p90),
            row.resolution["met"],
            row.resolution["breached"],
            attainment_text(row.resolution["met"], row.resolution["breached"]),
            source_cell(row),
        ]
        rows.append([row.customer, *cells] if with_customer else cells)
        timed.append([seconds(row.median), seconds(row.p90)])
    headers = ["Customer", *HEADERS] if with_customer else list(HEADERS)
    return Table(headers, rows, timed)


def filename(report: Report, extension: str) -> str:
    return f"sla-attainment-{report.first:%Y-%m}-to-{report.last:%Y-%m}.{extension}"


def _download(content: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _csv_safe(value: str | int | None) -> str | int:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return f"'{value}"
    return value


def csv_response(report: Report, cells: Table) -> HttpResponse:
    """UTF-8 with a byte-order mark, so a spreadsheet opened on it reads "—" right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*cells.headers, *SECONDS_HEADERS])
    for row, timed in zip(cells.rows, cells.seconds, strict=True):
        writer.writerow([_csv_safe(value) for value in [*row, *timed]])
    content = buffer.getvalue().encode("utf-8-sig")
    return _download(content, "text/csv; charset=utf-8", filename(report, "csv"))


def xlsx_response(report: Report, cells: Table, notes: list[str]) -> HttpResponse:
    """The table on the first sheet (counts as numbers), the filters and the basis of
    the figures on a second."""
    book = Workbook()
    sheet = book.active
    sheet.title = "SLA attainment"
    sheet.append([*cells.headers, *SECONDS_HEADERS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row, timed in zip(cells.rows, cells.seconds, strict=True):
        sheet.append([*row, *timed])
        for cell in sheet[sheet.max_row]:
            # openpyxl stores a text starting with "=" as a formula: keep it text.
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    for column, header in zip(sheet.iter_cols(min_row=1, max_row=1), sheet[1], strict=True):
        sheet.column_dimensions[column[0].column_letter].width = max(12, min(len(header.value), 40))
    about = book.create_sheet("About")
    for line in notes:
        about.append([line])
    about.column_dimensions["A"].width = 120
    buffer = io.BytesIO()
    book.save(buffer)
    return _download(buffer.getvalue(), XLSX, filename(report, "xlsx"))
