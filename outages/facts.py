"""The availability engine's inputs and outputs: plain values, no ORM."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from contracts.calendars import BusinessCalendar
from slaportal.formatting import percent_text

CALENDAR_SECONDS = "calendar_minutes"
BUSINESS_SECONDS = "business_minutes"
PERMITTED = "permitted"
REMOVED = "removed"


@dataclass(frozen=True, eq=False, slots=True)  # hashed by identity: part of a bulk run's memo key
class Terms:
    """The policy terms the engine needs (see contracts.models.SLAPolicy)."""

    zone: str
    measurement: BusinessCalendar
    denominator_basis: str = CALENDAR_SECONDS
    downtime_from_confirmation: bool = False
    exclusions: Mapping[str, str] = field(default_factory=dict)  # category → permitted|removed
    significant_subset_pct: Decimal | None = None
    counts_only_critical_services: bool = False
    category_labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False, slots=True)  # hashed by identity: a bulk run's memo keys on it
class OutageFact:
    """One outage of the service that reaches this account."""

    id: int
    title: str
    category: str
    started_at: datetime
    ended_at: datetime | None  # None: still ongoing
    confirmed_at: datetime | None = None
    affected_accounts: int | None = None  # None: every customer of the service
    service_accounts: int = 1  # customers of the service this month
    service_critical: bool = True


@dataclass(frozen=True, slots=True)
class Verdict:
    outage_id: int
    title: str
    category: str
    counted: bool
    seconds: int  # downtime it added (0 when excluded)
    reason: str  # why excluded; for a counted outage, any part left out
    code: str  # machine-readable: counted, excluded_category, removed_from_denominator, ...


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    downtime_seconds: int


@dataclass(frozen=True, slots=True)
class Availability:
    month: date
    period_start: datetime
    period_end: datetime
    month_seconds: int  # real length of the whole month in the zone
    period_seconds: int  # real length of the active part
    measured_seconds: int  # period on the denominator basis, before removals
    removed_seconds: int
    denominator_seconds: int
    downtime_seconds: int
    availability: Fraction
    days: tuple[Day, ...]
    verdicts: tuple[Verdict, ...]

    @property
    def share_of_month(self) -> Fraction:
        """The active share of the month, which prorates the fee."""
        return Fraction(self.period_seconds, self.month_seconds)

    @property
    def percent(self) -> Fraction:
        return self.availability * 100

    @property
    def display(self) -> str:
        """Percent to 3 places, cut so a shortfall never displays as met."""
        return percent_text(self.availability)

    @property
    def denominator_minutes(self) -> Fraction:
        return Fraction(self.denominator_seconds, 60)

    @property
    def downtime_minutes(self) -> Fraction:
        return Fraction(self.downtime_seconds, 60)
