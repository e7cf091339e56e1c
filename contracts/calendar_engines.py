"""Stored calendar definitions become BusinessCalendar engines, one per calendar per process.

Pure Python (no Django, no database): ``contracts.selectors.business_calendar_for``
reads a stored calendar into a ``CalendarDefinition`` and asks ``engine_for`` for its
engine. An engine keeps per-date spans that make repeated questions cheap, so each
process keeps one engine per calendar and reuses it while the definition is the same.
The definition itself is the version: the zone, every opening interval, the holiday
country and subdivision and every custom holiday are compared on each call, so a
change made by any writer (a service, the admin, a queryset ``update``) is seen by the
next computation in the same process, and the engine built for the old definition is
dropped, not kept beside the new one.

Public holidays come from the ``holidays`` package one year at a time, as a date asks
for them, and each (country, subdivision, year) is expanded once per process: the
package's data cannot change while the process runs.
"""

from __future__ import annotations

from collections.abc import Container, Hashable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays as holiday_data

from contracts.calendars import BusinessCalendar

__all__ = [
    "CalendarDefinition",
    "CalendarHolidays",
    "build_engine",
    "cached_engines",
    "clear_engines",
    "engine_for",
    "public_holidays",
]

# Far more calendars than any deployment defines; a bound only so that a test run that
# creates thousands of short-lived calendars cannot grow the cache without limit.
_MAX_ENGINES = 1024


@dataclass(frozen=True, slots=True)
class CalendarDefinition:
    """Everything a stored calendar's business time depends on."""

    time_zone: str
    # (weekday 0 = Monday, start minute, end minute), sorted
    intervals: tuple[tuple[int, int, int], ...]
    holiday_country: str = ""
    holiday_subdivision: str = ""
    custom_holidays: frozenset[date] = frozenset()


@lru_cache(maxsize=4096)
def public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    """A country's (and subdivision's) public holidays in one year, observed days included."""
    return frozenset(holiday_data.country_holidays(country, subdiv=subdivision or None, years=year))


class CalendarHolidays(Container[date]):
    """A country's public holidays (expanded year by year as asked) plus custom dates."""

    __slots__ = ("country", "custom", "subdivision")

    def __init__(self, country: str, subdivision: str, custom: frozenset[date]) -> None:
        self.country = country
        self.subdivision = subdivision
        self.custom = custom

    def __contains__(self, day: object) -> bool:
        if day in self.custom:
            return True
        if not isinstance(day, date):
            return False
        return day in public_holidays(self.country, self.subdivision, day.year)


def build_engine(definition: CalendarDefinition) -> BusinessCalendar:
    """A new engine for ``definition``: the cold path, with no cache of its own."""
    hours: dict[int, list[tuple[int, int]]] = {}
    for weekday, start, end in definition.intervals:
        hours.setdefault(weekday, []).append((start * 60, end * 60))
    country, custom = definition.holiday_country, definition.custom_holidays
    closed: Container[date] | None = custom or None
    if country:
        closed = CalendarHolidays(country, definition.holiday_subdivision, custom)
    return BusinessCalendar(tz=definition.time_zone, hours=hours, holidays=closed)


_ENGINES: dict[Hashable, tuple[CalendarDefinition, BusinessCalendar]] = {}


def engine_for(key: Hashable, definition: CalendarDefinition) -> BusinessCalendar:
    """The process's engine for calendar ``key`` (its primary key) as ``definition`` says.

    The same engine while the definition is unchanged; a new one, replacing it, as soon
    as anything in the definition differs. Safe across threads: a race only builds an
    engine twice, and the last one stays.
    """
    cached = _ENGINES.get(key)
    if cached is not None and cached[0] == definition:
        return cached[1]
    engine = build_engine(definition)
    if key not in _ENGINES and len(_ENGINES) >= _MAX_ENGINES:
        _ENGINES.clear()
    _ENGINES[key] = (definition, engine)
    return engine


def cached_engines() -> dict[Hashable, tuple[CalendarDefinition, BusinessCalendar]]:
    """A copy of the cache, calendar key -> (definition, engine): for tests and benchmarks."""
    return dict(_ENGINES)


def clear_engines() -> None:
    """Forget every engine (the next computation of each calendar starts cold)."""
    _ENGINES.clear()
