"""Read-only queries behind the portal and back-office pages."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from contracts import roles
from contracts.models import (
    Calendar,
    Contract,
    ContractLine,
    Customer,
    Invoice,
    Service,
    SLAPolicy,
    User,
)


def customer_people(customer: Customer) -> QuerySet[User]:
    """Everyone in the organisation, active people first, then by name."""
    return customer.members.order_by("-is_active", "first_name", "last_name", "email")


def _contracts_with_lines(queryset: QuerySet[Contract]) -> QuerySet[Contract]:
    return queryset.select_related("policy").prefetch_related(
        Prefetch("lines", queryset=ContractLine.objects.select_related("service"))
    )


def contracts_for_customer(customer: Customer) -> QuerySet[Contract]:
    return _contracts_with_lines(customer.contracts.order_by("-start_date", "reference"))


def customers_for_account_manager(user: User) -> QuerySet[Customer]:
    """The customers ``user`` manages; an administrator oversees every customer."""
    customers = Customer.objects.all()
    if not roles.has_role(user, roles.ADMIN):
        customers = customers.filter(account_managers=user)
    contracts = _contracts_with_lines(Contract.objects.order_by("-start_date", "reference"))
    return customers.order_by("name").prefetch_related(Prefetch("contracts", queryset=contracts))


def backoffice_counts() -> dict[str, int]:
    """How many of each record the back office manages, keyed by model name."""
    return {
        "customer": Customer.objects.count(),
        "service": Service.objects.count(),
        "calendar": Calendar.objects.count(),
        "slapolicy": SLAPolicy.objects.count(),
        "contract": Contract.objects.count(),
        "invoice": Invoice.objects.count(),
        "user": User.objects.count(),
    }
