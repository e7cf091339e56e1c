"""Interval arithmetic for the availability engine: UTC instants in whole seconds."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from contracts.calendars import BusinessCalendar
from slaportal.months import local_midnight, next_month


class Interval(NamedTuple):
    """``[start, end)``: aware UTC instants (whole seconds inside the engine)."""

    start: datetime
    end: datetime


def union(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for interval in sorted(i for i in intervals if i.end > i.start):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def subtract(
    intervals: list[Interval], holes: list[Interval] | tuple[Interval, ...]
) -> list[Interval]:
    """``intervals`` minus ``holes``; both sorted and disjoint."""
    result: list[Interval] = []
    for start, end in intervals:
        cursor = start
        # Only the holes from the last one starting before ``start`` on can meet it.
        first = max(bisect_left(holes, (start,)) - 1, 0)
        for h_start, h_end in holes[first:]:
            if h_start >= end:
                break
            if h_end <= cursor:
                continue
            if h_start > cursor:
                result.append(Interval(cursor, h_start))
            cursor = max(cursor, h_end)
        if cursor < end:
            result.append(Interval(cursor, end))
    return result


def whole(moment: datetime) -> datetime:
    """UTC, whole seconds: the engine's unit, so every sum is exact."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the engine needs aware times")
    return moment.astimezone(UTC).replace(microsecond=0)


def whole_seconds(delta: timedelta) -> int:
    # Outage times are whole seconds in practice; truncate any fraction consistently.
    return delta.days * 86400 + delta.seconds


class Meter:
    """Measures intervals on the policy's measurement calendar."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.always_open = calendar.always_open

    def __call__(self, intervals: Iterable[Interval]) -> int:
        if self.always_open:  # 24x7: real time, no calendar walk needed
            return sum(whole_seconds(b - a) for a, b in intervals if b > a)
        return sum(whole_seconds(self.calendar.elapsed(a, b)) for a, b in intervals)


@lru_cache(maxsize=64)
def day_starts(month: date, zone: ZoneInfo) -> tuple[datetime, ...]:
    """UTC instants of each local midnight of the month, and of the next month's first."""
    following = next_month(month)
    return tuple(
        local_midnight(month + timedelta(days=i), zone) for i in range((following - month).days + 1)
    )


def seconds_per_day(
    downtime: list[Interval], meter: Meter, month: date, zone: ZoneInfo
) -> list[int]:
    """Downtime per local day of the month; only days that meet downtime are measured."""
    starts = day_starts(month, zone)
    per_day = [0] * (len(starts) - 1)
    for a, b in downtime:
        first = max(bisect_right(starts, a) - 1, 0)
        for index in range(first, len(per_day)):
            day_start, day_end = starts[index], starts[index + 1]
            if day_start >= b:
                break
            piece = Interval(max(a, day_start), min(b, day_end))
            if piece.end > piece.start:
                per_day[index] += meter([piece])
    return per_day
