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
    local_midnight,
    next_month,
    seconds_per_day,
    union,
    whole,
    whole_seconds,
)
from outages.screening import Candidate, screen_all, sweep_step


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
    return prepare(
        terms,
        month=month,
        outages=outages,
        active_from=active_from,
        active_until=active_until,
        now=now,
        memo=memo,
    ).result


@dataclass(frozen=True, eq=False)
class Baseline:
    """A computation kept open for more outages: what every account of a policy, service
    and active period shares, so each account's own (scoped) outages are added with
    ``extend`` without redoing the rest. ``result`` is the shared outages' availability."""

    terms: Terms
    outages: tuple[OutageFact, ...]
    args: dict  # month, active_from, active_until, now
    window: tuple  # (start, end, month_start, month_end, now)
    meter: Meter
    basis: Meter
    simple: bool
    removed: list[Interval]  # union of the time removed from the denominator
    removed_parts: list[tuple[Interval, Verdict]]  # each outage removed, and its verdict
    excluded: list[Verdict]  # outages excluded before any time is measured (not removed)
    keys: list[tuple]  # sort key of each candidate, ascending
    candidates: list[Candidate]
    reach: list[datetime | None]  # reach before each candidate; [n] = the final reach
    steps: list[tuple[list[Interval], int, Verdict]]  # fresh time, seconds, verdict
    result: Availability


def prepare(
    terms: Terms,
    *,
    month: date,
    outages: Sequence[OutageFact],
    active_from: date | None = None,
    active_until: date | None = None,
    now: datetime | None = None,
    memo: dict | None = None,
) -> Baseline:
    """``compute`` for these outages, kept as a ``Baseline`` that ``extend`` builds on."""
    args = dict(month=month.replace(day=1), active_from=active_from, active_until=active_until)
    window = measured_window(terms, now=now, **args)
    memo = {} if memo is None else memo
    excluded, candidates, removed = screen_all(terms, outages, window, memo)
    # Sweep in order of the counted start: every earlier candidate starts no later, so
    # what they cover from here on is exactly [start, reach) — one comparison per
    # outage instead of a union of all earlier ones.
    candidates.sort(key=sweep_order)
    return build_baseline(
        terms, tuple(outages), {**args, "now": now}, window, excluded, removed, candidates, memo
    )


def measured_window(
    terms: Terms,
    *,
    month: date,
    active_from: date | None,
    active_until: date | None,
    now: datetime | None,
) -> tuple:
    """(start, end, month start, month end, now) of the measured period, in UTC."""
    zone = ZoneInfo(terms.zone)
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
    return (start, max(start, end), month_start, month_end, now)


def build_baseline(
    terms: Terms,
    outages: tuple[OutageFact, ...],
    args: dict,
    window: tuple,
    excluded: list[Verdict],
    removed_parts: list[tuple[Interval, Verdict]],
    candidates: list[Candidate],
    memo: dict,
    reuse: list | None = None,
    days: list[int] | None = None,
    keys: list[tuple] | None = None,
) -> Baseline:
    """Sweep the (sorted) candidates and total up; ``reuse`` holds steps known already,
    ``days`` the downtime per local day when it is known already."""
    start, end, month_start, month_end, _ = window
    month = args["month"]
    meter = Meter(terms.measurement)
    basis = _ALWAYS if terms.denominator_basis == CALENDAR_SECONDS else meter
    removed_union = tuple(union(part for part, _ in removed_parts))
    simple = meter.always_open and not removed_union
    reach: list[datetime | None] = []
    steps = []
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
    downtime = sum(seconds for _, seconds, _ in steps)
    if days is None:
        fresh = [i for part, _, _ in steps for i in part]
        days = seconds_per_day(fresh, meter, month, ZoneInfo(terms.zone))
    measured = basis([(start, end)]) if end > start else 0
    removed_seconds = basis(removed_union)
    denominator = measured - removed_seconds
    removed_verdicts = [verdict for _, verdict in removed_parts]
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
            [*excluded, *removed_verdicts, *(verdict for _, _, verdict in steps)]
        ),
    )
    return Baseline(
        terms,
        outages,
        args,
        window,
        meter,
        basis,
        simple,
        removed_union,
        removed_parts,
        excluded,
        [sweep_order(c) for c in candidates] if keys is None else keys,
        candidates,
        reach,
        steps,
        result,
    )


_ALWAYS = Meter(BusinessCalendar.always())


def sweep_order(candidate: Candidate) -> tuple:
    # By when the outage's counted time began, before any clipping: the order does not
    # depend on the period, so a month's sweep also holds for any part of it.
    outage, _, _, span = candidate
    return (span[0], outage.started_at, outage.id)


def reach_after(current: datetime | None, candidate: Candidate) -> datetime:
    end = candidate[1][1]
    return end if current is None else max(current, end)


def ordered_verdicts(verdicts: list[Verdict]) -> tuple[Verdict, ...]:
    """Counted outages first, then the excluded ones, each by outage id."""
    by_id = sorted(verdicts, key=_BY_ID)
    return tuple(sorted(by_id, key=_COUNTED, reverse=True))  # stable: ids stay in order


_BY_ID = attrgetter("outage_id")
_COUNTED = attrgetter("counted")


def ratio(denominator: int, downtime: int) -> Fraction:
    return Fraction(1) if denominator <= 0 else Fraction(denominator - downtime, denominator)
