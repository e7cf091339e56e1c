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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from operator import attrgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from contracts.calendars import BusinessCalendar
from outages.facts import (  # noqa: F401  (re-exported: the engine's interface)
    BUSINESS_SECONDS,
    CALENDAR_SECONDS,
    PERMITTED,
    REMOVED,
    Availability,
    Day,
    OutageFact,
    Terms,
    Verdict,
)
from outages.intervals import (
    Interval,
    Meter,
    seconds_per_day,
    union,
    whole,
    whole_seconds,
)
from outages.screening import (  # noqa: F401  (Memo re-exported: the engine's interface)
    Candidate,
    Memo,
    Removal,
    Step,
    Window,
    screen_all,
    sweep_step,
)
from slaportal.months import local_midnight, next_month


class Period(NamedTuple):
    """What is measured: a month (its first day) and the contract's active days in it."""

    month: date
    active_from: date | None  # first active day (local, inclusive); None: unbounded
    active_until: date | None  # last active day (local, inclusive); None: unbounded
    now: datetime | None  # closes ongoing outages and a running month; None: month end


class SweepKey(NamedTuple):
    """A candidate's place in the sweep."""

    counted_from: datetime
    started_at: datetime
    outage_id: int


def compute(
    terms: Terms,
    *,
    month: date,
    outages: Sequence[OutageFact],
    active_from: date | None = None,
    active_until: date | None = None,
    now: datetime | None = None,
    memo: Memo | None = None,
) -> Availability:
    """Availability of one account's service for ``month`` (any date in it).

    ``active_from`` / ``active_until`` are the contract's first and last active days
    (inclusive, local dates; None = unbounded). ``now`` closes ongoing outages and the
    still-running month (None: the end of the month). ``memo``: a ``Memo`` a bulk run
    passes to every call, so an outage met by thousands of accounts is screened once per
    period.
    """
    return prepare(
        terms,
        month=month,
        outages=outages,
        active_from=active_from,
        active_until=active_until,
        now=now,
        memo=memo,
    ).result


@dataclass(frozen=True, eq=False, slots=True)
class Baseline:
    """A computation kept open for more outages: what every account of a policy, service
    and active period shares, so each account's own (scoped) outages are added with
    ``extend`` without redoing the rest. ``result`` is the shared outages' availability."""

    terms: Terms
    outages: tuple[OutageFact, ...]
    period: Period
    window: Window
    meter: Meter
    basis: Meter
    simple: bool
    removed: tuple[Interval, ...]  # union of the time removed from the denominator
    removed_parts: list[Removal]  # each outage removed, and its verdict
    excluded: list[Verdict]  # outages excluded before any time is measured (not removed)
    keys: list[SweepKey]  # of each candidate, ascending
    candidates: list[Candidate]
    reach: list[datetime | None]  # reach before each candidate; [n] = the final reach
    steps: list[Step]
    result: Availability


def prepare(
    terms: Terms,
    *,
    month: date,
    outages: Sequence[OutageFact],
    active_from: date | None = None,
    active_until: date | None = None,
    now: datetime | None = None,
    memo: Memo | None = None,
) -> Baseline:
    """``compute`` for these outages, kept as a ``Baseline`` that ``extend`` builds on."""
    period = Period(month.replace(day=1), active_from, active_until, now)
    window = measured_window(terms, period)
    memo = Memo() if memo is None else memo
    excluded, candidates, removed = screen_all(terms, outages, window, memo)
    # Sweep in order of the counted start: every earlier candidate starts no later, so
    # what they cover from here on is exactly [start, reach) — one comparison per
    # outage instead of a union of all earlier ones.
    keys = [sweep_order(c) for c in candidates]
    order = sorted(range(len(candidates)), key=keys.__getitem__)
    return build_baseline(
        terms,
        tuple(outages),
        period,
        window,
        excluded,
        removed,
        [candidates[i] for i in order],
        memo,
        keys=[keys[i] for i in order],
    )


def measured_window(terms: Terms, period: Period) -> Window:
    """The measured period (the month clipped to the active days and to ``now``) and
    the month, in UTC."""
    zone = ZoneInfo(terms.zone)
    month_start = local_midnight(period.month, zone)
    month_end = local_midnight(next_month(period.month), zone)
    start = month_start
    end = month_end
    if period.active_from is not None:
        start = max(start, local_midnight(period.active_from, zone))
    if period.active_until is not None:
        end = min(end, local_midnight(period.active_until + timedelta(days=1), zone))
    if period.now is not None:  # a month still running is measured up to now
        end = min(end, max(whole(period.now), start))
    return Window(start, max(start, end), month_start, month_end, period.now)


def build_baseline(
    terms: Terms,
    outages: tuple[OutageFact, ...],
    period: Period,
    window: Window,
    excluded: list[Verdict],
    removed_parts: list[Removal],
    candidates: list[Candidate],
    memo: Memo,
    reuse: list[Step | None] | None = None,
    days: list[int] | None = None,
    keys: list[SweepKey] | None = None,
) -> Baseline:
    """Sweep the (sorted) candidates and total up; ``reuse`` holds steps known already,
    ``days`` the downtime per local day when it is known already."""
    start, end, month_start, month_end, _ = window
    month = period.month
    meter = Meter(terms.measurement)
    basis = _ALWAYS if terms.denominator_basis == CALENDAR_SECONDS else meter
    removed_union = tuple(union(part.clipped for part in removed_parts))
    simple = meter.always_open and not removed_union
    reach: list[datetime | None] = []
    steps: list[Step] = []
    current: datetime | None = None
    for index, candidate in enumerate(candidates):
        reach.append(current)
        step = reuse[index] if reuse is not None else None
        if step is None:
            step = sweep_step(candidate, current, terms, removed_union, meter, simple, memo)
        steps.append(step)
        current = reach_after(current, candidate)
    reach.append(current)

    # Each step's fresh time is disjoint from the others' and comes after it: their
    # seconds add up, and together they are already in order.
    downtime = sum(step.seconds for step in steps)
    if days is None:
        fresh = [i for step in steps for i in step.fresh]
        days = seconds_per_day(fresh, meter, month, ZoneInfo(terms.zone))
    measured = basis([Interval(start, end)]) if end > start else 0
    removed_seconds = basis(removed_union)
    denominator = measured - removed_seconds
    result = Availability(
        month=month,
        period_start=start,
        period_end=end,
        month_seconds=whole_seconds(month_end - month_start),
        period_seconds=whole_seconds(end - start) if end > start else 0,
        measured_seconds=measured,
        removed_seconds=removed_seconds,
        denominator_seconds=max(denominator, 0),
        downtime_seconds=downtime,
        availability=ratio(denominator, downtime),
        days=tuple(Day(month + timedelta(days=i), seconds) for i, seconds in enumerate(days)),
        verdicts=ordered_verdicts(
            [
                *excluded,
                *(part.verdict for part in removed_parts),
                *(step.verdict for step in steps),
            ]
        ),
    )
    return Baseline(
        terms=terms,
        outages=outages,
        period=period,
        window=window,
        meter=meter,
        basis=basis,
        simple=simple,
        removed=removed_union,
        removed_parts=removed_parts,
        excluded=excluded,
        keys=[sweep_order(c) for c in candidates] if keys is None else keys,
        candidates=candidates,
        reach=reach,
        steps=steps,
        result=result,
    )


_ALWAYS = Meter(BusinessCalendar.always())


def sweep_order(candidate: Candidate) -> SweepKey:
    # By when the outage's counted time began, before any clipping: the order does not
    # depend on the period, so a month's sweep also holds for any part of it.
    return SweepKey(candidate.span.start, candidate.outage.started_at, candidate.outage.id)


def reach_after(current: datetime | None, candidate: Candidate) -> datetime:
    end = candidate.clipped.end
    return end if current is None else max(current, end)


def ordered_verdicts(verdicts: list[Verdict]) -> tuple[Verdict, ...]:
    """Counted outages first, then the excluded ones, each by outage id."""
    by_id = sorted(verdicts, key=_BY_ID)
    return tuple(sorted(by_id, key=_COUNTED, reverse=True))  # stable: ids stay in order


_BY_ID = attrgetter("outage_id")
_COUNTED = attrgetter("counted")


def ratio(denominator: int, downtime: int) -> Fraction:
    return Fraction(1) if denominator <= 0 else Fraction(denominator - downtime, denominator)
