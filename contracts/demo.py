"""The demo data set: one person per role, three customers on different plans.

Idempotent: running it again finds what it made and changes nothing. Later issues
add outages, tickets and statements here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from contracts.models import Contract, Customer, Service, SLAPolicy, User
from contracts.services import (
    CalendarSpec,
    SeveritySpec,
    calendar_upsert,
    contract_create,
    customer_create,
    customer_user_create,
    invoice_create,
    service_create,
    user_create_staff,
)
from slaportal import roles

DEMO_PASSWORD = "sla-portal-demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    organisation: str


STAFF = [
    ("agent@provider.example", [roles.AGENT], "Sam", "Agent"),
    ("ops@provider.example", [roles.OPERATIONS], "Olu", "Operations"),
    ("am@provider.example", [roles.ACCOUNT_MANAGER], "Alex", "Manager"),
    ("admin@provider.example", [roles.ADMIN], "Ada", "Admin"),
]
SERVICES = [
    ("ccms", "Heretto CCMS", True),
    ("cloud-publishing", "Cloud Publishing", True),
    ("balto-guidance", "Balto Real-Time Guidance", True),
    ("balto-reporting", "Balto Cloud Reporting", False),
]
# (customer, time zone, policy code, contract reference, [(service code, monthly fee)], people)
CUSTOMERS = [
    (
        "Acme Documentation Inc.",
        "America/New_York",
        "heretto-ccms",
        "ACME-2026",
        [("ccms", "4000.00"), ("cloud-publishing", "1500.00")],
        [("admin@acme.example", "admin"), ("user@acme.example", "user")],
    ),
    (
        "Globex Publishing Ltd",
        "America/Los_Angeles",
        "heretto-enterprise",
        "GLOBEX-2026",
        [("ccms", "9000.00")],
        [("admin@globex.example", "admin"), ("user@globex.example", "user")],
    ),
    (
        "Initech Contact Center",
        "America/Chicago",
        "balto-uptime",
        "INITECH-2026",
        [("balto-guidance", "6000.00"), ("balto-reporting", "1000.00")],
        [("admin@initech.example", "admin"), ("user@initech.example", "user")],
    ),
]
# The multiplier SLA leaves support hours and response times to the order form; these
# are the demo order form's.
ORDER_FORM_CALENDAR = CalendarSpec(
    code="initech-order-form-support",
    name="Initech order form: support 8am–6pm CT Mon–Fri",
    time_zone="America/Chicago",
    hours={d: [("08:00", "18:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
    holiday_country="US",
)
ORDER_FORM_TARGETS = {
    1: (60, 480, True),
    2: (240, 1440, False),
    3: (480, 4320, False),
    4: (1440, None, False),
}


@transaction.atomic
def demo_build(*, today: date | None = None) -> list[DemoLogin]:
    today = today or timezone.localdate()
    staff = {}
    for username, role_names, first, last in STAFF:
        user = User.objects.filter(username=username).first() or user_create_staff(
            username=username,
            email=username,
            password=DEMO_PASSWORD,
            roles_=role_names,
            first_name=first,
            last_name=last,
        )
        staff[role_names[0]] = user
    services = {
        code: Service.objects.filter(code=code).first()
        or service_create(code=code, name=name, critical=critical)
        for code, name, critical in SERVICES
    }
    order_form_calendar = calendar_upsert(ORDER_FORM_CALENDAR)
    logins = [DemoLogin(u, r[0], "Provider staff") for u, r, _, _ in STAFF]
    start = date(today.year, today.month, 1)
    for _ in range(3):  # the first day three months back: three ended months to state
        start = (start - timedelta(days=1)).replace(day=1)
    for name, tz, policy_code, reference, lines, people in CUSTOMERS:
        customer = Customer.objects.filter(name=name).first() or customer_create(
            name=name,
            billing_emails=[f"billing@{people[0][0].split('@')[1]}"],
            time_zone=tz,
            account_managers=[staff[roles.ACCOUNT_MANAGER]],
        )
        for email, role in people:
            if not User.objects.filter(username=email).exists():
                customer_user_create(
                    customer=customer,
                    username=email,
                    email=email,
                    role=role,
                    password=DEMO_PASSWORD,
                    first_name=email.split("@")[0].title(),
                )
            logins.append(DemoLogin(email, f"customer_{role}", name))
        if Contract.objects.filter(reference=reference).exists():
            continue
        policy = SLAPolicy.objects.filter(code=policy_code).order_by("-version").first()
        order_form = policy.support_terms_in_order_form
        contract = contract_create(
            customer=customer,
            policy=policy,
            reference=reference,
            start_date=start,
            currency="USD",
            lines=[(services[code], Decimal(fee)) for code, fee in lines],
            support_calendar=order_form_calendar if order_form else None,
            severities=[
                SeveritySpec(
                    severity=term.severity,
                    name=term.name,
                    description=term.description,
                    around_the_clock=ORDER_FORM_TARGETS[term.severity][2],
                    response=(ORDER_FORM_TARGETS[term.severity][0], "minutes"),
                    resolution=(ORDER_FORM_TARGETS[term.severity][1], "minutes")
                    if ORDER_FORM_TARGETS[term.severity][1]
                    else (None, "none"),
                )
                for term in policy.severities.all()
            ]
            if order_form
            else [],
        )
        _demo_invoices(contract, start, today)
    return logins


def _demo_invoices(contract: Contract, start: date, today: date) -> None:
    """Monthly invoices in advance, each paid on the 10th of its month except the current
    month's, which is open: an approved credit goes on it by a credit note."""
    month = start
    total = sum(line.monthly_fee for line in contract.lines.all())
    number = 1
    while month <= today:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        unpaid = following > today  # the current month's
        invoice_create(
            contract=contract,
            number=f"{contract.reference}-{number:03d}",
            period_start=month,
            period_end=following - timedelta(days=1),
            amount=total,
            issued_on=month,
            due_on=month + timedelta(days=30),
            paid_at=None if unpaid else datetime(month.year, month.month, 10, 12, tzinfo=UTC),
        )
        month, number = following, number + 1
