"""Read-only queries behind the portal and back-office pages."""

from __future__ import annotations

from collections.abc import Container
from datetime import date
from functools import lru_cache

import holidays
from django.db.models import Prefetch, QuerySet

from contracts.calendars import WEEKDAYS, BusinessCalendar
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
from contracts.terms import format_clock
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


class CalendarHolidays(Container[date]):
    """A country's public holidays (expanded year by year as asked) plus custom dates."""

    def __init__(self, country: str, subdivision: str, custom: frozenset[date]) -> None:
        self.custom = custom
        self.public = (
            holidays.country_holidays(country, subdiv=subdivision or None) if country else None
        )

    def __contains__(self, day: object) -> bool:
        return day in self.custom or (self.public is not None and day in self.public)


@lru_cache(maxsize=256)
def _engine(
    time_zone: str,
    intervals: tuple[tuple[int, int, int], ...],
    country: str,
    subdivision: str,
    custom: frozenset[date],
) -> BusinessCalendar:
    hours: dict[str, list[tuple[str, str]]] = {}
    for weekday, start, end in intervals:
        hours.setdefault(WEEKDAYS[weekday], []).append((format_clock(start), format_clock(end)))
    holidays = CalendarHolidays(country, subdivision, custom) if country or custom else None
    return BusinessCalendar(tz=time_zone, hours=hours, holidays=holidays)


def business_calendar_for(calendar: Calendar) -> BusinessCalendar:
    """The engine for a stored calendar.

    Engines are shared between calls while the calendar's definition is unchanged: each
    keeps a per-date cache that makes repeated questions about the same days cheap.
    """
    # .all() rather than values_list so a prefetch (bulk availability) serves it.
    intervals = tuple(
        sorted((i.weekday, i.start_minute, i.end_minute) for i in calendar.intervals.all())
    )
    custom = frozenset(h.date for h in calendar.custom_holidays.all())
    return _engine(
        calendar.time_zone,
        intervals,
        calendar.holiday_country,
        calendar.holiday_subdivision,
        custom,
    )
