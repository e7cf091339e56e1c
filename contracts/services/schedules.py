"""Calendars: opening intervals and holidays, validated by the pure engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from contracts import calendars
from contracts.calendars import WEEKDAYS
from contracts.models import (
    Calendar,
    CalendarHoliday,
    OpeningInterval,
)
from contracts.services._common import _clean, _terms
from contracts.terms import TermsError, parse_clock


@dataclass
class CalendarSpec:
    code: str
    name: str
    time_zone: str
    hours: dict[str, list[tuple[str, str]]]
    holiday_country: str = ""
    holiday_subdivision: str = ""
    custom_holidays: list[tuple[date, str]] = field(default_factory=list)


def _interval_rows(hours: dict[str, Any]) -> list[tuple[int, int, int]]:
    rows = []
    for day, intervals in hours.items():
        if day not in WEEKDAYS:
            raise ValidationError({"hours": [f"{day!r} is not a weekday (mon … sun)."]})
        for start, end in intervals:
            rows.append(
                (
                    WEEKDAYS.index(day),
                    _terms("hours", parse_clock, start),
                    _terms("hours", parse_clock, end),
                )
            )
    return rows


@transaction.atomic
def calendar_upsert(spec: CalendarSpec) -> Calendar:
    """Create or replace a calendar with its opening intervals and custom holidays."""
    # The pure engine is the one authority on what a valid week looks like
    # (reversed or overlapping intervals, unknown zone): ask it first.
    _terms("hours", calendars.parse_hours, spec.hours)
    rows = _interval_rows(spec.hours)
    calendar = Calendar.objects.filter(code=spec.code).first() or Calendar(code=spec.code)
    # Compare with what is stored before the fields below are assigned: afterwards the
    # snapshot would read the new zone and holiday country back and see no change.
    unchanged = calendar.pk is not None and calendar_snapshot(calendar) == {
        "name": spec.name,
        "time_zone": spec.time_zone,
        "holiday_country": spec.holiday_country,
        "holiday_subdivision": spec.holiday_subdivision,
        "intervals": sorted(rows),
        "custom_holidays": sorted((d.isoformat(), n) for d, n in spec.custom_holidays),
    }
    calendar.name = spec.name
    calendar.time_zone = spec.time_zone
    calendar.holiday_country = spec.holiday_country
    calendar.holiday_subdivision = spec.holiday_subdivision
    _clean(calendar)
    if spec.holiday_country:
        _terms(
            "holiday_subdivision",
            _check_subdivision,
            spec.holiday_country,
            spec.holiday_subdivision,
        )
    if unchanged:
        return calendar
    calendar.save()
    calendar.intervals.all().delete()
    OpeningInterval.objects.bulk_create(
        OpeningInterval(calendar=calendar, weekday=d, start_minute=s, end_minute=e)
        for d, s, e in rows
    )
    calendar.custom_holidays.all().delete()
    CalendarHoliday.objects.bulk_create(
        CalendarHoliday(calendar=calendar, date=day, name=name)
        for day, name in spec.custom_holidays
    )
    return calendar


def calendar_snapshot(calendar: Calendar) -> dict[str, Any]:
    return {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
        "intervals": sorted(
            calendar.intervals.values_list("weekday", "start_minute", "end_minute")
        ),
        "custom_holidays": sorted(
            (d.isoformat(), n) for d, n in calendar.custom_holidays.values_list("date", "name")
        ),
    }


def _check_subdivision(country: str, subdivision: str) -> None:
    import holidays

    if subdivision:
        known = holidays.list_supported_countries().get(country, [])
        if subdivision not in known:
            raise TermsError(f"{subdivision} is not a subdivision of {country}.")
