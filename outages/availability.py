"""The availability engine: pure, no ORM, exact (integer seconds and ``Fraction``).

For one account, one service and one month (in the policy's zone):

    availability = (denominator − counted downtime) / denominator

* The **period** is the month clipped to the contract's active days.
* **Counted downtime** is the union of the qualifying outage intervals (from
  confirmation where the policy says so), clipped to the period, minus any time
  removed from the denominator, measured on the policy's measurement calendar
  (the multiplier SLA counts only business hours; the tiered SLA is 24x7).
* The **denominator** is the period's length — all of its seconds, or only its
  business seconds — less the time the policy removes from it (the tiered SLA's
  *Required Monthly Availability* = month − excused − scheduled downtime).

Every outage comes back with a verdict: counted (with the seconds it added) or
excluded, with the reason. Overlapping outages never count twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from contracts.calendars import BusinessCalendar
from outages.intervals import (
    Interval,
    Meter,
    local_midnight,
    next_month,
    seconds_per_day,
    subtract,
    union,
    whole,
    whole_seconds,
)

CALENDAR_SECONDS = "calendar_minutes"
BUSINESS_SECONDS = "business_minutes"
PERMITTED = "permitted"
REMOVED = "removed"


@dataclass(frozen=True, eq=False)  # hashed by identity: part of a bulk run's memo key
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Verdict:
    outage_id: int
    title: str
    category: str
    counted: bool
    seconds: int  # downtime it added (0 when excluded)
    reason: str  # why excluded; for a counted outage, any part left out
    code: str  # machine-readable: counted, excluded_category, removed_from_denominator, ...


@dataclass(frozen=True)
class Day:
    day: date
    downtime_seconds: int


@dataclass(frozen=True)
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
    def active(self) -> bool:
        return self.period_seconds > 0

    @property
    def share_of_month(self) -> Fraction:
        """The active share of the month, which prorates the fee."""
        return Fraction(self.period_seconds, self.month_seconds)

    @property
    def percent(self) -> Fraction:
        return self.availability * 100

    @property
    def display(self) -> str:
        """Percent to 3 places, rounded down so a shortfall never displays as met."""
        value = Decimal(self.percent.numerator) / Decimal(self.percent.denominator)
        return f"{value.quantize(Decimal('0.001'), rounding=ROUND_DOWN)} %"

    @property
    def denominator_minutes(self) -> Fraction:
        return Fraction(self.denominator_seconds, 60)

    @property
    def downtime_minutes(self) -> Fraction:
        return Fraction(self.downtime_seconds, 60)


def compute(
    terms: Terms,
    *,
    month: date,
    outages: Sequence[OutageFact],
    active_from: date | None = None,
    active_until: date | None = None,
    now: datetime | None = None,
    memo: dict | None = None,
) -> Availability:
    """Availability of one account's service for ``month`` (any date in it).

    ``active_from`` / ``active_until`` are the contract's first and last active days
    (inclusive, local dates; None = unbounded). ``now`` closes ongoing outages and the
    still-running month (None: the end of the month). ``memo``: a dict a bulk run passes
    to every call, so an outage met by thousands of accounts is screened once per period.
    """
    zone = ZoneInfo(terms.zone)
    month = month.replace(day=1)
    month_start = local_midnight(month, zone)
    month_end = local_midnight(next_month(month), zone)
    start = month_start
    end = month_end
    if active_from is not None:
        start = max(start, local_midnight(active_from, zone))
    if active_until is not None:
        end = min(end, local_midnight(active_until + timedelta(days=1), zone))
    if now is not None:  # a month still running is measured up to now
        end = min(end, max(whole(now), start))
    end = max(start, end)

    meter = Meter(terms.measurement)
    always = Meter(BusinessCalendar.always())
    basis = always if terms.denominator_basis == CALENDAR_SECONDS else meter

    verdicts: list[Verdict] = []
    candidates: list[tuple[OutageFact, Interval, str]] = []  # (outage, clipped, note)
    removed: list[Interval] = []
    memo = {} if memo is None else memo
    for outage in outages:
        key = (terms, outage, start, end, now)
        screened = memo.get(key)
        if screened is None:
            screened = _screen(outage, terms, start, end, month_start, month_end, now)
            if screened[0] is None and terms.exclusions.get(outage.category) == REMOVED:
                reason = (
                    f"{_label(terms, outage.category)}: not counted, and removed "
                    "from the month's required availability"
                )
                verdict = _excluded(outage, "removed_from_denominator", reason)
                screened = (verdict, screened[1], _REMOVED)
            memo[key] = screened
        verdict, clipped, note = screened
        if note is _REMOVED:
            removed.append(clipped)
        if verdict is not None:
            verdicts.append(verdict)
        else:
            candidates.append((outage, clipped, note))

    removed_union = union(removed)
    simple = meter.always_open and not removed_union
    # Sweep in order of the counted start: every earlier candidate starts no later, so
    # what they cover from here on is exactly [start, reach) — one comparison per
    # outage instead of a union of all earlier ones.
    candidates.sort(key=lambda c: (c[1][0], c[0].started_at, c[0].id))
    reach: datetime | None = None
    downtime_intervals: list[Interval] = []
    for outage, clipped, note in candidates:
        begin = clipped[0] if reach is None else max(clipped[0], reach)
        reach = clipped[1] if reach is None else max(reach, clipped[1])
        if simple:  # 24x7 and nothing removed: plain arithmetic
            fresh = [(begin, clipped[1])] if begin < clipped[1] else []
            seconds = whole_seconds(clipped[1] - begin) if fresh else 0
        else:
            fresh = subtract([(begin, clipped[1])], removed_union) if begin < clipped[1] else []
            seconds = meter(fresh)
        if seconds == 0:
            overlap_key = ("not counted", outage, clipped, tuple(removed_union), terms)
            verdict = memo.get(overlap_key)
            if verdict is None:
                why = (
                    ("overlap", "overlaps downtime already counted")
                    if simple
                    else _why_not_counted(clipped, removed_union, meter)
                )
                verdict = memo[overlap_key] = _excluded(outage, *why)
            verdicts.append(verdict)
            continue
        downtime_intervals.extend(fresh)
        verdicts.append(
            Verdict(outage.id, outage.title, outage.category, True, seconds, note, "counted")
        )

    downtime_union = union(downtime_intervals)
    downtime = meter(downtime_union)
    measured = basis([(start, end)]) if end > start else 0
    removed_seconds = basis(removed_union)
    denominator = measured - removed_seconds
    availability = (
        Fraction(1) if denominator <= 0 else Fraction(denominator - downtime, denominator)
    )
    return Availability(
        month=month,
        period_start=start,
        period_end=end,
        month_seconds=whole_seconds(month_end - month_start),
        period_seconds=whole_seconds(end - start) if end > start else 0,
        measured_seconds=measured,
        removed_seconds=removed_seconds,
        denominator_seconds=max(denominator, 0),
        downtime_seconds=downtime,
        availability=availability,
        days=tuple(
            Day(month + timedelta(days=i), seconds)
            for i, seconds in enumerate(seconds_per_day(downtime_union, meter, month, zone))
        ),
        verdicts=tuple(sorted(verdicts, key=lambda v: (not v.counted, v.outage_id))),
    )


_REMOVED = "\0removed"  # marks a screened outage whose time leaves the denominator


def _why_not_counted(clipped: Interval, removed: list[Interval], meter: Meter) -> tuple[str, str]:
    if meter([clipped]) == 0:
        return "outside_measured_hours", "outside the measured hours"
    if meter(subtract([clipped], removed)) == 0:
        return "overlap_removed", "during time already removed from the denominator"
    return "overlap", "overlaps downtime already counted"


def _label(terms: Terms, category: str) -> str:
    return terms.category_labels.get(category, category.replace("_", " "))


def _excluded(outage: OutageFact, code: str, reason: str) -> Verdict:
    return Verdict(outage.id, outage.title, outage.category, False, 0, reason, code)


def _screen(
    outage: OutageFact,
    terms: Terms,
    start: datetime,
    end: datetime,
    month_start: datetime,
    month_end: datetime,
    now: datetime | None,
) -> tuple[Verdict | None, Interval, str]:
    """Reasons an outage is excluded before any time is measured; else its clipped span."""
    o_end = whole(outage.ended_at or now or month_end)
    o_start = whole(outage.started_at)
    confirmed_at = None if outage.confirmed_at is None else whole(outage.confirmed_at)
    note = ""
    if terms.exclusions.get(outage.category) == PERMITTED:
        return (
            _excluded(
                outage,
                "excluded_category",
                f"{_label(terms, outage.category)}: permitted downtime under the policy",
            ),
            (o_start, o_end),
            "",
        )
    if terms.counts_only_critical_services and not outage.service_critical:
        return (
            _excluded(
                outage,
                "non_critical_service",
                "the service is not critical; only critical services count",
            ),
            (o_start, o_end),
            "",
        )
    if terms.significant_subset_pct is not None and outage.affected_accounts is not None:
        share = Fraction(outage.affected_accounts, max(outage.service_accounts, 1))
        if share * 100 < Fraction(terms.significant_subset_pct):
            return (
                _excluded(
                    outage,
                    "below_significant_subset",
                    f"affected {outage.affected_accounts} of {outage.service_accounts} customers of "
                    f"the service, below the significant subset of {terms.significant_subset_pct} %",
                ),
                (o_start, o_end),
                "",
            )
    if terms.downtime_from_confirmation and terms.exclusions.get(outage.category) != REMOVED:
        if confirmed_at is None:
            return (
                _excluded(
                    outage, "not_confirmed", "not yet confirmed; downtime starts at confirmation"
                ),
                (o_start, o_end),
                "",
            )
        if confirmed_at >= o_end:
            return (
                _excluded(outage, "before_confirmation", "ended before it was confirmed"),
                (o_start, o_end),
                "",
            )
        if confirmed_at > o_start:
            local = confirmed_at.astimezone(ZoneInfo(terms.zone))
            note = f"counted from confirmation at {local:%Y-%m-%d %H:%M %Z}"
            o_start = confirmed_at
    clipped = (max(o_start, start), min(o_end, end))
    if clipped[1] <= clipped[0]:
        inside_month = o_start < month_end and o_end > month_start
        if inside_month:
            return (
                _excluded(
                    outage, "outside_contract_period", "outside the contract's active period"
                ),
                clipped,
                "",
            )
        return _excluded(outage, "outside_month", "outside the month"), clipped, ""
    if (clipped[0], clipped[1]) != (o_start, o_end) and not note:
        note = "counted only inside the month and the contract's active period"
    return None, clipped, note
