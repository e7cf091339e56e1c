"""Reads behind the customer's SLA page (``/portal/sla/``): for each of the customer's
contracts in force today, the terms as its policy version (or, for support, the
contract's order form) states them — availability target, credit rule, support hours
and holidays, severity targets, backup retention, RPO and status page.

The targets are worded as the ticket pages word them (``tickets.views._common``) and
read from the same terms the clocks run on (``tickets.selectors.support_terms_for``), so
the page says what the clocks do. Holidays are the support calendar's: the dates the
calendar engine closes (``contracts.calendar_engines.public_holidays``) plus the
calendar's own custom dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import holidays as holiday_data
from django.db.models import Prefetch

from contracts.calendar_engines import public_holidays
from contracts.calendar_hours import clock_text
from contracts.models import Calendar, Contract, Customer, SLAPolicy
from slaportal.months import local_date
from tickets.selectors import (
    contracts_in_force,
    severity_terms_for,
    support_calendar_of,
    support_terms_for,
)
from tickets.views._common import target_text

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WHOLE_DAY = 1440  # minutes


def number_text(value: Decimal) -> str:
    """A stored percentage or multiplier without its trailing zeros: 5.00 → "5",
    35.50 → "35.5" (the way the SLA documents write them)."""
    return f"{value.normalize():f}"


@dataclass(frozen=True)
class BandRow:
    availability: str  # "at least 98.000 % and below 99.500 %"
    credit: str  # "5 % of the monthly fee" / "No credit"


@dataclass(frozen=True)
class OpeningDay:
    name: str
    hours: str  # "03:00–20:00", "Closed", "Open all day"


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str


@dataclass(frozen=True)
class SupportHours:
    calendar: Calendar | None  # None: no support hours stated (the clocks run 24x7)
    around_the_clock: bool
    days: list[OpeningDay]
    holiday_rule: str  # "US public holidays (observed days included)"; "" when none
    holidays: list[Holiday]
    year: int


@dataclass(frozen=True)
class SeverityRow:
    severity: int
    name: str
    description: str
    response: str
    resolution: str
    clock: str  # "Support hours" | "Around the clock"


@dataclass(frozen=True)
class ContractTerms:
    contract: Contract
    policy: SLAPolicy
    target: str
    bands: list[BandRow]
    multiplier: str  # "10" ("" for a tiered rule)
    cap: str  # "30" ("" when the policy sets no cap)
    support: SupportHours
    severities: list[SeverityRow]
    support_from_order_form: bool

    @property
    def tiered(self) -> bool:
        return self.policy.credit_rule == SLAPolicy.CreditRule.TIERED


def _bands(policy: SLAPolicy) -> list[BandRow]:
    rows = []
    for band in sorted(policy.bands.all(), key=lambda b: b.lower_pct, reverse=True):
        if band.upper_pct is None:
            availability = f"{band.lower_pct} % or more"
        elif band.lower_pct == 0:
            availability = f"below {band.upper_pct} %"
        else:
            availability = f"at least {band.lower_pct} % and below {band.upper_pct} %"
        credit = (
            f"{number_text(band.credit_pct)} % of the monthly fee"
            if band.credit_pct
            else "No credit"
        )
        rows.append(BandRow(availability, credit))
    return rows


def _hours(minutes: list[tuple[int, int]]) -> str:
    if not minutes:
        return "Closed"
    if minutes == [(0, WHOLE_DAY)]:
        return "Open all day"
    return ", ".join(f"{clock_text(a * 60)}–{clock_text(b * 60)}" for a, b in minutes)


def _support_hours(calendar: Calendar | None, today: date) -> SupportHours:
    if calendar is None:
        return SupportHours(None, True, [], "", [], today.year)
    by_day: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
    for interval in sorted(calendar.intervals.all(), key=lambda i: (i.weekday, i.start_minute)):
        by_day[interval.weekday].append((interval.start_minute, interval.end_minute))
    days = [OpeningDay(WEEKDAY_NAMES[day], _hours(spans)) for day, spans in by_day.items()]
    year = today.year
    found: dict[date, str] = {}
    rule = ""
    if calendar.holiday_country:
        region = calendar.holiday_country + (
            f"-{calendar.holiday_subdivision}" if calendar.holiday_subdivision else ""
        )
        rule = f"{region} public holidays (observed days included)"
        names = holiday_data.country_holidays(
            calendar.holiday_country, subdiv=calendar.holiday_subdivision or None, years=year
        )
        # The dates the calendar engine closes; the package's names for them.
        for day in public_holidays(calendar.holiday_country, calendar.holiday_subdivision, year):
            found[day] = names.get(day, "Public holiday")
    for custom in calendar.custom_holidays.all():
        if custom.date.year == year:
            found[custom.date] = custom.name or "Closed"
    always = all(day.hours == "Open all day" for day in days) and not found
    return SupportHours(
        calendar=calendar,
        around_the_clock=always,
        days=days,
        holiday_rule=rule,
        holidays=[Holiday(day, name) for day, name in sorted(found.items())],
        year=year,
    )


def _severities(contract: Contract) -> list[SeverityRow]:
    terms = support_terms_for(contract)
    words = severity_terms_for(contract)
    rows = []
    for level, targets in terms.severities.items():
        term = words[level]
        on_calendar = terms.calendar_for(level) is terms.calendar  # as the filing form says
        rows.append(
            SeverityRow(
                severity=level,
                name=term.name,
                description=term.description,
                response=target_text(targets.response),
                resolution=target_text(targets.resolution),
                clock="Support hours" if on_calendar else "Around the clock",
            )
        )
    return rows


def contracts_for_sla_page(customer: Customer, now: datetime) -> list[Contract]:
    """The customer's contracts in force today (their zone), with what the page reads."""
    calendars = Calendar.objects.prefetch_related("intervals", "custom_holidays")
    return list(
        contracts_in_force(customer, on=local_date(now, customer.time_zone))
        .select_related("policy__measurement_calendar")
        .prefetch_related(
            "lines__service",
            "severities",
            "policy__severities",
            "policy__bands",
            Prefetch("support_calendar", queryset=calendars),
            Prefetch("policy__support_calendar", queryset=calendars),
        )
        .order_by("start_date", "reference")
    )


def sla_terms(customer: Customer, now: datetime) -> list[ContractTerms]:
    """Each contract in force today with its terms (see the module docstring)."""
    today = local_date(now, customer.time_zone)
    found = []
    for contract in contracts_for_sla_page(customer, now):
        policy = contract.policy
        calendar = support_calendar_of(contract)
        found.append(
            ContractTerms(
                contract=contract,
                policy=policy,
                target=f"{policy.target_availability} %",
                bands=_bands(policy),
                multiplier=number_text(policy.credit_multiplier)
                if policy.credit_multiplier is not None
                else "",
                cap=number_text(policy.credit_cap_pct) if policy.credit_cap_pct is not None else "",
                support=_support_hours(calendar, today),
                severities=_severities(contract),
                support_from_order_form=policy.support_terms_in_order_form,
            )
        )
    return found
