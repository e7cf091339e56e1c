"""The SLA attainment report's pages and downloads: the customer's (``/portal/reports/
attainment/``: their organisation) and the staff's (``/backoffice/reports/attainment/``:
every customer for administrators, agents and operations; an account manager's own). Both
read the customers from ``report_customers``, so a customer the viewer may not see is
not among the choices (choosing it is a form error, like an id that does not exist).

Bad filters are a form error on the page (a 400, the page shown again with the
message), and a download with bad filters answers that page too: never a 500."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from portal.charts import SEVERITIES, attainment_chart
from portal.reports.attainment import Report, attainment_report, report_customers
from portal.reports.exports import csv_response, table, xlsx_response
from portal.reports.forms import MAX_MONTHS, AttainmentFilterForm
from slaportal import roles
from slaportal.pages import paginate, render_zoned, viewer_zone
from slaportal.permissions import customer_required, role_required

STAFF_ROLES = (roles.AGENT, roles.OPERATIONS, roles.ACCOUNT_MANAGER)
ROWS_PER_PAGE = 100
BASIS = [
    "Tickets are counted in the month they were received (the contract's SLA time zone), "
    "under their current severity, as the monthly statement's support section counts them.",
    "A month whose statement is issued shows the figures that statement reports; a month "
    "still running, or not issued yet, is computed now (\u201clive\u201d) and may change "
    "as tickets are answered and resolved.",
    "Attained = met / (met + breached); tickets still open and not yet due, and severities "
    "without a target, count in neither.",
    "Time to first response is business time on the contract's support hours (around the "
    "clock where the SLA says so), time waiting on the customer left out, for the tickets "
    "answered by then. Median and 90th percentile are nearest-rank: times tickets really took.",
]


def _report(request: HttpRequest, *, staff: bool) -> tuple[AttainmentFilterForm, Report | None]:
    now = timezone.now()
    visible = report_customers(request.user)
    form = AttainmentFilterForm(
        request.GET,
        now=now,
        zone=viewer_zone(request).key,
        customers=visible if staff else None,
    )
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    chosen = data.get("customer")
    customers = visible.filter(pk=chosen.pk) if chosen is not None else visible
    report = attainment_report(
        customers, first=data["first"], last=data["last"], now=now, severity=data["severity"]
    )
    return form, report


def _names(staff: bool) -> dict[str, str]:
    prefix = "staff" if staff else "portal"
    return {
        "page_url": f"{prefix}-attainment",
        "csv_url": f"{prefix}-attainment-csv",
        "xlsx_url": f"{prefix}-attainment-xlsx",
    }


def _page(request: HttpRequest, *, staff: bool) -> HttpResponse:
    form, report = _report(request, staff=staff)
    context: dict[str, Any] = {
        "form": form,
        "report": report,
        "staff": staff,
        "basis": BASIS,
        "max_months": MAX_MONTHS,
        "severities": SEVERITIES,
        "customer": None if staff else request.user.customer,
        **_names(staff),
    }
    query = request.GET.copy()
    query.pop("page", None)
    context["download_query"] = query.urlencode()
    if report is None:
        return render_zoned(request, "reports/attainment.html", context, status=400)
    cells = table(report, with_customer=staff)
    page, page_query = paginate(request, cells.rows, per_page=ROWS_PER_PAGE)
    numeric = cells.numeric
    context.update(
        {
            "headers": list(zip(cells.headers, numeric, strict=True)),
            "rows": [list(zip(row, numeric, strict=True)) for row in page.object_list],
            "page": page,
            "query": page_query,
            "charts": [
                attainment_chart("First response", report.months, report.tallies("response")),
                attainment_chart("Resolution", report.months, report.tallies("resolution")),
            ],
            "chosen": form.cleaned_data.get("customer"),
        }
    )
    return render_zoned(request, "reports/attainment.html", context)


def _download(request: HttpRequest, kind: str, *, staff: bool) -> HttpResponse:
    form, report = _report(request, staff=staff)
    if report is None:
        return _page(request, staff=staff)
    cells = table(report, with_customer=staff)
    if kind == "csv":
        return csv_response(report, cells)
    chosen = form.cleaned_data.get("customer")
    if not staff:
        scope = request.user.customer.name
    else:
        scope = chosen.name if chosen else "every customer you may see"
    notes = [
        "SLA attainment report",
        f"Customers: {scope}",
        f"Months: {report.first:%B %Y} to {report.last:%B %Y}",
        f"Severity: {report.severity or 'every severity'}",
        f"Prepared: {timezone.now():%Y-%m-%d %H:%M} UTC",
        "",
        *BASIS,
    ]
    return xlsx_response(report, cells, notes)


# ---------------------------------------------------------------- customers


@customer_required
def portal_attainment(request: HttpRequest) -> HttpResponse:
    return _page(request, staff=False)


@customer_required
def portal_attainment_csv(request: HttpRequest) -> HttpResponse:
    return _download(request, "csv", staff=False)


@customer_required
def portal_attainment_xlsx(request: HttpRequest) -> HttpResponse:
    return _download(request, "xlsx", staff=False)


# ---------------------------------------------------------------- staff


@role_required(*STAFF_ROLES)
def staff_attainment(request: HttpRequest) -> HttpResponse:
    return _page(request, staff=True)


@role_required(*STAFF_ROLES)
def staff_attainment_csv(request: HttpRequest) -> HttpResponse:
    return _download(request, "csv", staff=True)


@role_required(*STAFF_ROLES)
def staff_attainment_xlsx(request: HttpRequest) -> HttpResponse:
    return _download(request, "xlsx", staff=True)
