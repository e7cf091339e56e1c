"""A brute-force, minute-stepping reference for contracts.calendars that shares nothing
with the engine's internals; the property tests compare the engine against it.

An instant is open when the latest wall-clock reading shown so far (minute resolution)
falls on a non-holiday date inside one of that weekday's intervals. Taking the running
maximum is what makes a fall-back's repeated hour count once, as a continuation of its
first pass; a spring-forward gap is simply never shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)
LOOKBACK = timedelta(hours=3)  # longer than any fall-back


def ref_open_minutes(zone: str, weekly: dict, holiday_set: set, a: datetime, n: int) -> list:
    tz = ZoneInfo(zone)
    shown = None
    out = []
    t = a - LOOKBACK
    while len(out) < n:
        wall = t.astimezone(tz).replace(tzinfo=None)
        shown = wall if shown is None or wall > shown else shown
        if t >= a:
            minute = shown.hour * 60 + shown.minute
            out.append(
                shown.date() not in holiday_set
                and any(s <= minute < e for s, e in weekly[shown.weekday()])
            )
        t += MINUTE
    return out


def ref_elapsed(zone: str, weekly: dict, holiday_set: set, a: datetime, b: datetime) -> timedelta:
    n = int((b - a) / MINUTE)
    return sum(ref_open_minutes(zone, weekly, holiday_set, a, n), 0) * MINUTE


def ref_due(zone: str, weekly: dict, holiday_set: set, start: datetime, minutes: int) -> datetime:
    if minutes == 0:
        return start
    chunk, t, left = 3 * 1440, start, minutes
    while True:
        for is_open in ref_open_minutes(zone, weekly, holiday_set, t, chunk):
            t += MINUTE
            left -= is_open
            if left == 0:
                return t
