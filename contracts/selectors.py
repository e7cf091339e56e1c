"""Read-only queries behind the portal and back-office pages."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from contracts.calendar_engines import CalendarDefinition, engine_for
from contracts.calendars import BusinessCalendar
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
from slaportal import authority


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
    customers = authority.scope_acted_for(Customer.objects.all(), user, "pk")
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


def business_calendar_for(calendar: Calendar) -> BusinessCalendar:
    """The engine for a stored calendar: this process's, while its definition is unchanged.

    The definition is read afresh on each call (a prefetch of ``intervals`` and
    ``custom_holidays``, as the bulk availability run has, serves it), so a change is
    seen by the next computation; see ``contracts.calendar_engines``.
    """
    # .all() rather than values_list so a prefetch (bulk availability) serves it.
    intervals = tuple(
        sorted((i.weekday, i.start_minute, i.end_minute) for i in calendar.intervals.all())
    )
    definition = CalendarDefinition(
        time_zone=calendar.time_zone,
        intervals=intervals,
        holiday_country=calendar.holiday_country,
        holiday_subdivision=calendar.holiday_subdivision,
        custom_holidays=frozenset(h.date for h in calendar.custom_holidays.all()),
    )
    return engine_for(calendar.pk, definition)
