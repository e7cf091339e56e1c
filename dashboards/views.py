"""The customer dashboard (``/portal/``) and the account manager dashboard (``/am/``).

Both start from the requester: the customer's own organisation, or the customers the
account manager manages (every customer for an administrator). Times are shown in the
viewer's zone.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from contracts import roles
from contracts.permissions import customer_required, role_required
from contracts.selectors import contracts_for_customer
from credits.selectors import customer_balances
from dashboards import selectors
from dashboards.charts import SEVERITIES, attainment_chart
from slaportal.money import format_money
from slaportal.pages import render_zoned
from tickets.views._common import rows


@customer_required
def customer_home(request: HttpRequest) -> HttpResponse:
    customer = request.user.customer
    now = timezone.now()
    tickets = selectors.open_tickets(customer)
    standings, failed = selectors.live_availability(customer.contracts.all(), now)
    balances = [
        {"currency": currency, "amount": format_money(amount, currency), "zero": amount == 0}
        for currency, amount in customer_balances(customer).items()
    ]
    return render_zoned(
        request,
        "portal/home.html",
        {
            "customer": customer,
            "contracts": contracts_for_customer(customer),
            "standings": standings,
            "below_target": sum(1 for s in standings if not s.on_track),
            "availability_failed": failed,
            "ticket_rows": rows(tickets[: selectors.OPEN_TICKETS_SHOWN], now),
            "open_count": tickets.count(),
            "balances": balances,
            "statements": selectors.latest_statements(customer),
            "incidents": selectors.active_incidents(customer, now),
        },
    )


@role_required(roles.ACCOUNT_MANAGER)
def account_manager_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    risks, failed = selectors.customer_risks(user, now)
    credits = selectors.credits_awaiting(user)
    attainment = selectors.sla_attainment(user, now)
    charts = [
        attainment_chart("First response", attainment["months"], attainment["response"]),
        attainment_chart("Resolution", attainment["months"], attainment["resolution"]),
    ]
    return render_zoned(
        request,
        "am/home.html",
        {
            "risks": risks,
            "at_risk": sum(1 for r in risks if r.level != "ok"),
            "availability_failed": failed,
            "credits": credits[: selectors.CREDITS_SHOWN],
            "credits_count": credits.count(),
            "charts": charts,
            "severities": SEVERITIES,
            "sees_all": roles.has_role(user, roles.ADMIN),
        },
    )
