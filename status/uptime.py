"""Daily uptime bars for the public status page: pure (no ORM) and exact.

Time is measured in whole UTC seconds and ratios are ``Fraction``; a percentage is only
turned into text at the end, rounded *down*, so the page never shows 100 % for a day
that had a single second of downtime.

Each interval carries a *kind* — ``outage``, ``degraded`` or ``maintenance`` (the
selectors decide which outage is which, from its category and impact). Only ``outage``
time lowers uptime; degraded and maintenance time are measured and shown on the day's
bar, not subtracted. Intervals of one kind are merged first, so overlapping outages never
count twice. A service's uptime over 30, 90 or 365 days is the same sum over the last
that many bars (``Uptime.last``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from outages.intervals import Interval, union, whole, whole_seconds
from slaportal.formatting import percent_cut

OPERATIONAL = "operational"
MAINTENANCE = "maintenance"
DEGRADED = "degraded"
PARTIAL = "partial"  # a state only (part of a service down), never a bar's kind
OUTAGE = "outage"
# Worst first wins: a service with an outage and a maintenance window is "outage".
SEVERITY = {OPERATIONAL: 0, MAINTENANCE: 1, DEGRADED: 2, PARTIAL: 3, OUTAGE: 4}
KINDS = (OUTAGE, DEGRADED, MAINTENANCE)
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class DayBar:
    day: date
    measured: int  # seconds of the day that have passed (all of them, except today)
    down: int
    degraded: int
    maintenance: int

    @property
    def uptime(self) -> Fraction:
        return ratio(self.measured, self.down)

    @property
    def state(self) -> str:
        if self.down:
            return OUTAGE
        if self.degraded:
            return DEGRADED
        if self.maintenance:
            return MAINTENANCE
        return OPERATIONAL


@dataclass(frozen=True)
class Uptime:
    days: tuple[DayBar, ...]

    @property
    def measured(self) -> int:
        return sum(day.measured for day in self.days)

    @property
    def down(self) -> int:
        return sum(day.down for day in self.days)

    @property
    def uptime(self) -> Fraction:
        return ratio(self.measured, self.down)

    def last(self, days: int) -> Uptime:
        """The last ``days`` bars (today included), as an ``Uptime`` of their own."""
        return Uptime(days=self.days[-days:])


def ratio(measured: int, down: int) -> Fraction:
    return Fraction(measured - down, measured) if measured else Fraction(1)


def percent(value: Fraction, places: int = 3) -> str:
    """``Fraction(99931, 100000)`` → ``"99.931"``; rounded down, exact ``1`` → ``"100"``."""
    if value >= 1:
        return "100"
    return str(percent_cut(value, places))


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def day_bars(
    intervals: Mapping[str, Iterable[Interval]], *, now: datetime, days: int = 90
) -> Uptime:
    """One bar per UTC day, the last ``days`` days ending today (today measured up to
    ``now``). ``intervals`` maps a kind to ``Interval`` (or plain ``(start, end)``) pairs; an ongoing outage is
    passed with ``end=now`` and anything after ``now`` is ignored."""
    now = whole(now)
    first = now.date() - timedelta(days=days - 1)
    window = Interval(midnight(first), now)
    seconds = {kind: [0] * days for kind in KINDS}
    for kind, pairs in intervals.items():
        clipped = (
            Interval(max(whole(start), window.start), min(whole(end), window.end))
            for start, end in pairs
        )
        for start, end in union(clipped):
            _spread(seconds[kind], start, end, first)
    bars = []
    for index in range(days):
        day = first + timedelta(days=index)
        measured = DAY_SECONDS if day < now.date() else whole_seconds(now - midnight(day))
        bars.append(
            DayBar(
                day=day,
                measured=measured,
                down=seconds[OUTAGE][index],
                degraded=seconds[DEGRADED][index],
                maintenance=seconds[MAINTENANCE][index],
            )
        )
    return Uptime(days=tuple(bars))


def _spread(per_day: list[int], start: datetime, end: datetime, first: date) -> None:
    """Add ``[start, end)`` to the days it covers (cost: days spanned, not seconds)."""
    cursor = start
    while cursor < end:
        day = cursor.date()
        stop = min(end, midnight(day + timedelta(days=1)))
        per_day[(day - first).days] += whole_seconds(stop - cursor)
        cursor = stop


def worst(states: Iterable[str]) -> str:
    return max(states, key=SEVERITY.__getitem__, default=OPERATIONAL)
