"""factory_boy factories. They build rows directly (tests of the services call the services)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from contracts.models import (
    Calendar,
    Contract,
    ContractLine,
    Customer,
    Invoice,
    InvoiceLine,
    Service,
    SLAPolicy,
    User,
)
from credits.models import Credit
from credits.services import credit_approve

PASSWORD = "correct-horse-battery-staple"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    billing_emails = factory.LazyAttribute(
        lambda c: f"billing@{c.name.lower().replace(' ', '')}.test"
    )
    time_zone = "America/Chicago"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class CustomerUserFactory(UserFactory):
    customer = factory.SubFactory(CustomerFactory)
    customer_role = User.CustomerRole.USER


class StaffFactory(UserFactory):
    """A staff member; ``StaffFactory(role="operations")`` (agent by default)."""

    is_staff = True

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):  # noqa: N805
        if not create:
            return
        name = extracted or "agent"
        obj.groups.add(Group.objects.get_or_create(name=name)[0])
        if name == "admin":
            obj.is_superuser = True
            obj.save(update_fields=["is_superuser"])


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    code = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")


class ContractFactory(factory.django.DjangoModelFactory):
    """Needs ``policy=`` (load the catalog with the ``catalog`` fixture)."""

    class Meta:
        model = Contract

    customer = factory.SubFactory(CustomerFactory)
    reference = factory.Sequence(lambda n: f"C-{n:05d}")
    start_date = date(2026, 1, 1)
    currency = "USD"


class ContractLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractLine

    contract = factory.SubFactory(ContractFactory)
    service = factory.SubFactory(ServiceFactory)
    monthly_fee = Decimal("1000.00")


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice
        skip_postgeneration_save = True

    contract = factory.SubFactory(ContractFactory)
    customer = factory.SelfAttribute("contract.customer")
    number = factory.Sequence(lambda n: f"INV-{n:06d}")
    period_start = date(2026, 1, 1)
    period_end = date(2026, 1, 31)
    amount = Decimal("1000.00")
    total = factory.SelfAttribute("amount")
    currency = "USD"
    issued_on = date(2026, 1, 1)
    due_on = date(2026, 1, 31)
    charge = factory.RelatedFactory(
        "tests.support.factories.InvoiceLineFactory", factory_related_name="invoice"
    )


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    kind = "charge"
    description = "Services"
    amount = factory.SelfAttribute("invoice.amount")


def make_contract(customer, *, reference: str = "C-TEST-1", fees=("1250.00",)) -> Contract:
    """A contract under a minimal tiered policy, with one line per fee."""
    calendar, _ = Calendar.objects.get_or_create(
        code="test-24x7", defaults={"name": "Always", "time_zone": "UTC"}
    )
    terms = policy_terms(
        calendar, code="test-tiered", name="Tiered Test SLA", effective_from=date(2025, 1, 1)
    )
    policy, _ = SLAPolicy.objects.get_or_create(
        code=terms.pop("code"), version=terms.pop("version"), defaults=terms
    )
    contract = ContractFactory(customer=customer, policy=policy, reference=reference)
    for fee in fees:
        ContractLineFactory(contract=contract, service=ServiceFactory(), monthly_fee=Decimal(fee))
    return contract


def policy_terms(calendar: Calendar, **changes) -> dict:
    return {
        "code": "tiered",
        "version": 1,
        "name": "Tiered SLA",
        "effective_from": date(2026, 1, 1),
        "target_availability": Decimal("99.500"),
        "measurement_calendar": calendar,
        "denominator_basis": "calendar_minutes",
        "downtime_starts_at": "detection",
        "credit_rule": "tiered",
        "support_calendar": calendar,
        **changes,
    }


# ---------------------------------------------------------------- credits

JUNE = date(2026, 6, 1)


def pending_credit(
    contract: Contract,
    amount: str = "200.00",
    month: date = JUNE,
    *,
    working: dict | None = None,
) -> Credit:
    """A pending credit written directly (the decision services are under test)."""
    return Credit.objects.create(
        contract=contract,
        service=contract.lines.first().service,
        month=month,
        amount=Decimal(amount),
        currency=contract.currency,
        availability_pct=Decimal("99.000000"),
        working=working or {},
        status=Credit.Status.PENDING,
    )


def grant(contract: Contract, manager, amount: str, month: date = JUNE) -> Credit:
    """A credit approved by ``manager``: granted to the customer's balance."""
    return credit_approve(credit=pending_credit(contract, amount, month), actor=manager)


# ---------------------------------------------------------------- tickets


def ticket_contract(
    customer, *, policy_code: str = "heretto-ccms", reference: str = ""
) -> Contract:
    """A contract for ``customer`` under a catalog policy (load the ``catalog`` fixture),
    with one service line; the service is ``contract.lines.first().service``."""
    policy = SLAPolicy.objects.filter(code=policy_code).order_by("-version").first()
    contract = ContractFactory(
        customer=customer,
        policy=policy,
        start_date=date(2026, 1, 1),
        **({"reference": reference} if reference else {}),
    )
    ContractLineFactory(contract=contract)
    return contract


def _monday_june_8_2026_10am_eastern():
    from datetime import UTC, datetime  # local: this section is appended to the module

    return datetime(2026, 6, 8, 14, tzinfo=UTC)


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket row written directly, without clocks or history (tests of the services
    call the services). Give ``contract=`` (see ``ticket_contract``)."""

    class Meta:
        model = "tickets.Ticket"

    contract = None
    customer = factory.LazyAttribute(lambda t: t.contract.customer if t.contract else None)
    service = factory.LazyAttribute(
        lambda t: t.contract.lines.first().service if t.contract else None
    )
    subject = factory.Sequence(lambda n: f"Issue {n}")
    description = "Something is wrong."
    severity = 3
    status = "new"
    channel = "portal"
    received_at = factory.LazyFunction(lambda: _monday_june_8_2026_10am_eastern())
    created_at = factory.SelfAttribute("received_at")


def uploaded_file(name: str = "trace.log", size: int = 64, content_type: str = "text/plain"):
    """An in-memory upload of ``size`` bytes, as a form or the API would hand it over."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"x" * size, content_type=content_type)


# ---------------------------------------------------------------- statements


def catalog_contract(
    customer, policy_code: str, lines: dict[str, str], *, start: date = date(2026, 1, 1), **kw
) -> Contract:
    """A contract under a catalog policy (load the ``catalog`` fixture) with one line per
    ``{service name: monthly fee}``; services are created, or reused by name."""
    policy = SLAPolicy.objects.filter(code=policy_code).order_by("-version").first()
    contract = ContractFactory(customer=customer, policy=policy, start_date=start, **kw)
    for name, fee in lines.items():
        service = Service.objects.filter(name=name).first() or ServiceFactory(
            name=name, code=name.lower().replace(" ", "-")
        )
        ContractLineFactory(contract=contract, service=service, monthly_fee=Decimal(fee))
    return contract


def record_outage(contract: Contract, service_name: str, start, minutes: int, **kw):
    """An outage of ``minutes`` from ``start`` through the outage service (``now`` in
    ``kw``, else just after it ends; category ``internal`` unless given)."""
    from datetime import timedelta

    from outages.services import outage_record

    end = start + timedelta(minutes=minutes)
    fields = {"category": "internal", "title": f"{service_name} down", "now": end, **kw}
    return outage_record(
        service=contract.services.get(name=service_name),
        started_at=start,
        ended_at=end,
        actor=None,
        **fields,
    )
