"""The shell's pages: ``/`` sends each person to their role's home; the customer
dashboard (``/portal/``), the account manager dashboard (``/am/``) and the back-office home
(``/backoffice/``).

Both start from the requester: the customer's own organisation, or the customers the
account manager manages (every customer for an administrator). Times are shown in the
viewer's zone.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from contracts import selectors as contract_selectors
from contracts.selectors import contracts_for_customer
from credits.selectors import customer_balances
from outbox.models import WebhookDelivery, WebhookEndpoint
from portal import selectors
from portal.charts import SEVERITIES, attainment_chart
from portal.sla import sla_terms
from slaportal import roles
from slaportal.money import format_money
from slaportal.pages import render_zoned
from slaportal.permissions import customer_required, role_required
from tickets.views._common import rows

ROLE_HOMES = {
    "customer_user": "portal-home",
    "customer_admin": "portal-home",
    roles.AGENT: "desk-home",
    roles.OPERATIONS: "ops-home",
    roles.ACCOUNT_MANAGER: "am-home",
    roles.ADMIN: "backoffice-home",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    target = ROLE_HOMES.get(roles.primary_role(request.user) or "")
    if target is None:
        # Signed in but given no role yet: sending them to the login page would loop.
        raise PermissionDenied("Your account has no role yet. Ask your administrator.")
    return redirect(target)


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


@customer_required
def customer_sla(request: HttpRequest) -> HttpResponse:
    """The terms of each of the customer's contracts in force, as their SLA states them."""
    customer = request.user.customer
    return render_zoned(
        request,
        "portal/sla.html",
        {"customer": customer, "contracts": sla_terms(customer, timezone.now())},
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


# ---------------------------------------------------------------- staff


BACKOFFICE_SECTIONS = [
    ("customer", "Customers", "Organisations, billing contacts and account managers."),
    ("service", "Services", "What the SLA covers, and which services are critical."),
    ("calendar", "Calendars", "Opening hours, time zones and holidays."),
    ("slapolicy", "SLA policies", "Versioned terms: targets, exclusions, credits, support."),
    ("contract", "Contracts", "Which customer buys which services under which policy."),
    ("invoice", "Invoices", "Issued invoices and payments (credit eligibility)."),
    ("user", "People", "Staff accounts and customer people."),
]


@role_required(roles.ADMIN)
def backoffice_home(request: HttpRequest) -> HttpResponse:
    counts = contract_selectors.backoffice_counts()
    sections = [
        {
            "label": label,
            "description": description,
            "count": counts[model],
            "url": _admin_url(f"admin:contracts_{model}_changelist"),
        }
        for model, label, description in BACKOFFICE_SECTIONS
    ]
    webhooks = {
        "endpoints": WebhookEndpoint.objects.filter(is_active=True).count(),
        "failed": WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count(),
    }
    return render(request, "backoffice/home.html", {"sections": sections, "webhooks": webhooks})


def _admin_url(name: str) -> str | None:
    # A model not (yet) registered with the admin site has no page to link to.
    try:
        return reverse(name)
    except NoReverseMatch:
        return None
