"""Calendar months measured in a zone: parsing, bounds and the months an interval touches.

A month is ``[first day 00:00, next first day 00:00)`` local time in the zone, as UTC
instants, so its length follows DST (Chicago's November is 30 days + 1 hour).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

# The years the product measures in: far either side of any contract, and clear of the
# calendar's own edges (year 1 or 9999 seen from a zone west or east of UTC is out of
# Python's range, so a month there has no bounds).
FIRST_YEAR, LAST_YEAR = 1900, 2999


def check_year(year: int, what: str) -> None:
    """A clear ValueError for a year outside FIRST_YEAR–LAST_YEAR."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"{what} is out of range: give a year from {FIRST_YEAR} to {LAST_YEAR}.")


def parse_month(text: str) -> date:
    """'2026-11' → date(2026, 11, 1); a clear ValueError otherwise."""
    match = _MONTH.match(str(text or "").strip())
    if not match:
        raise ValueError(f"{text!r} is not a month; use YYYY-MM, e.g. 2026-11.")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} is not a month: {month} is not 01–12.")
    check_year(year, f"{text!r}")
    return date(year, month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_days(month: date) -> tuple[date, date]:
    """The first and the last day of ``month`` (any date in it), both inclusive."""
    return month.replace(day=1), next_month(month) - timedelta(days=1)


def local_date(moment: datetime, zone: str) -> date:
    """The date it is in ``zone`` at ``moment``."""
    return moment.astimezone(ZoneInfo(zone)).date()


def month_of(moment: datetime, zone: str) -> date:
    """The first day of the month ``zone`` is in at ``moment``."""
    return local_date(moment, zone).replace(day=1)


def local_midnight(day: date, zone: str | ZoneInfo) -> datetime:
    """The UTC instant of local midnight starting ``day`` in ``zone`` (a name, or a loaded
    zone, as the availability engine's day loops pass)."""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def month_bounds(month: date, zone: str) -> tuple[datetime, datetime]:
    return local_midnight(month.replace(day=1), zone), local_midnight(next_month(month), zone)


def months_touched(start: datetime, end: datetime, zone: str) -> list[date]:
    """First days of every local month that ``[start, end)`` overlaps."""
    months: list[date] = []
    month = month_of(start, zone)
    while end > start and local_midnight(month, zone) < end:
        months.append(month)
        month = next_month(month)
    return months


def month_has_ended(month: date, zone: str, now: datetime) -> bool:
    return month_bounds(month, zone)[1] <= now


def format_month(month: date) -> str:
    return f"{month:%Y-%m}"
