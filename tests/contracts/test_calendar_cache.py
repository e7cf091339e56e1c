"""One engine per stored calendar per process: reused while the definition is the same,
replaced (not kept beside) the moment the zone, the hours or the holidays change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from contracts.calendar_engines import (
    CalendarDefinition,
    CalendarHolidays,
    build_engine,
    cached_engines,
    clear_engines,
    engine_for,
)
from contracts.calendars import BusinessCalendar
from contracts.models import Calendar, CalendarHoliday
from contracts.selectors import business_calendar_for
from contracts.services import CalendarSpec, calendar_upsert
from tickets.selectors import support_terms_for

ET = ZoneInfo("America/New_York")
WEEKDAYS_MON_FRI = ("mon", "tue", "wed", "thu", "fri")
DESK = CalendarDefinition(
    time_zone="America/New_York",
    intervals=tuple((day, 3 * 60, 20 * 60) for day in range(5)),
    holiday_country="US",
)


@pytest.fixture(autouse=True)
def _no_engines_before_or_after():
    clear_engines()
    yield
    clear_engines()


def desk_spec(**changes) -> CalendarSpec:
    fields = {
        "code": "desk",
        "name": "Desk",
        "time_zone": "America/New_York",
        "hours": {day: [("09:00", "17:00")] for day in WEEKDAYS_MON_FRI},
        "holiday_country": "US",
    }
    return CalendarSpec(**(fields | changes))


def engines_of(calendar: Calendar) -> list[BusinessCalendar]:
    return [engine for key, (_, engine) in cached_engines().items() if key == calendar.pk]


# A Monday in June and the Friday after Thanksgiving, as local days of the engine's zone.
MONDAY, FRIDAY = date(2026, 6, 8), date(2026, 11, 27)


def business_hours(engine: BusinessCalendar, day: date) -> timedelta:
    zone = ZoneInfo(engine.tz)
    start = datetime.combine(day, datetime.min.time(), zone)
    return engine.elapsed(start, start + timedelta(days=1))


def test_the_same_definition_gives_the_same_engine_and_one_cache_entry(db):
    calendar = calendar_upsert(desk_spec())
    first = business_calendar_for(calendar)
    assert business_calendar_for(Calendar.objects.get(pk=calendar.pk)) is first
    assert engines_of(calendar) == [first]


@pytest.mark.parametrize(
    ("change", "monday", "friday"),
    [
        ({}, timedelta(hours=8), timedelta(hours=8)),
        ({"hours": {"mon": [("09:00", "18:30")]}}, timedelta(hours=9, minutes=30), timedelta(0)),
        (
            {"custom_holidays": [(FRIDAY, "Day after Thanksgiving")]},
            timedelta(hours=8),
            timedelta(0),
        ),
        ({"custom_holidays": [(MONDAY, "Office move")]}, timedelta(0), timedelta(hours=8)),
        # Hawaii: the local days themselves move, and keep their 8 hours.
        ({"time_zone": "Pacific/Honolulu"}, timedelta(hours=8), timedelta(hours=8)),
    ],
)
def test_a_changed_definition_is_seen_by_the_next_computation(db, change, monday, friday):
    calendar = calendar_upsert(desk_spec())
    before = business_calendar_for(calendar)
    assert business_hours(before, MONDAY) == timedelta(hours=8)

    calendar = calendar_upsert(desk_spec(**change))
    after = business_calendar_for(Calendar.objects.get(pk=calendar.pk))
    assert (business_hours(after, MONDAY), business_hours(after, FRIDAY)) == (monday, friday)
    assert (after is before) == (change == {})
    assert engines_of(calendar) == [after]  # the old engine is dropped, not kept


def test_a_changed_holiday_country_is_seen_by_the_next_computation(db):
    calendar = calendar_upsert(desk_spec(holiday_country="GB"))
    thanksgiving = date(2026, 11, 26)
    assert business_hours(business_calendar_for(calendar), thanksgiving) == timedelta(hours=8)
    calendar = Calendar.objects.get(pk=calendar_upsert(desk_spec(holiday_country="US")).pk)
    assert business_hours(business_calendar_for(calendar), thanksgiving) == timedelta(0)
    assert len(engines_of(calendar)) == 1


def test_rows_changed_behind_the_services_back_are_seen_too(db):
    calendar = calendar_upsert(desk_spec())
    before = business_calendar_for(calendar)
    CalendarHoliday.objects.create(calendar=calendar, date=MONDAY, name="Closed")
    after = business_calendar_for(calendar)
    assert after is not before
    assert business_hours(after, MONDAY) == timedelta(0)
    calendar.intervals.update(start_minute=10 * 60)
    assert business_hours(business_calendar_for(calendar), FRIDAY) == timedelta(hours=7)
    assert len(engines_of(calendar)) == 1


def test_ticket_clocks_use_the_support_calendar_as_it_is_now(tiered_contract):
    desk = Calendar.objects.get(pk=tiered_contract.policy.support_calendar_id)
    monday = datetime(2026, 6, 8, tzinfo=ET)
    terms = support_terms_for(tiered_contract)
    assert terms.calendar_for(2).elapsed(monday, monday + timedelta(days=1)) == timedelta(hours=17)
    desk.intervals.filter(weekday=0).update(end_minute=21 * 60)
    terms = support_terms_for(tiered_contract)
    assert terms.calendar_for(2).elapsed(monday, monday + timedelta(days=1)) == timedelta(hours=18)


def test_two_calendars_with_the_same_definition_each_have_their_engine(db):
    first = calendar_upsert(desk_spec(code="desk-a"))
    second = calendar_upsert(desk_spec(code="desk-b"))
    business_calendar_for(first), business_calendar_for(second)
    assert len(cached_engines()) == 2


def test_engine_for_replaces_the_engine_of_an_older_definition():
    first = engine_for("desk", DESK)
    assert engine_for("desk", DESK) is first
    later = CalendarDefinition(**{**_fields(DESK), "holiday_subdivision": "CA"})
    second = engine_for("desk", later)
    assert second is not first
    assert [engine for _, engine in cached_engines().values()] == [second]
    clear_engines()
    assert cached_engines() == {}
    assert engine_for("desk", later) is not second


def _fields(definition: CalendarDefinition) -> dict:
    return {name: getattr(definition, name) for name in definition.__slots__}


def test_a_built_engine_answers_like_one_built_from_its_hours_in_words():
    built = build_engine(DESK)
    in_words = BusinessCalendar(
        tz="America/New_York",
        hours={day: [("03:00", "20:00")] for day in WEEKDAYS_MON_FRI},
        holidays=holidays.country_holidays("US"),
    )
    assert built.weekly == in_words.weekly
    start = datetime(2025, 12, 20, 13, 7, 11, 5, tzinfo=UTC)
    for days in range(0, 800, 7):
        a = start + timedelta(days=days, hours=days % 23)
        assert built.elapsed(a, a + timedelta(days=31)) == in_words.elapsed(
            a, a + timedelta(days=31)
        )
        assert built.due(a, timedelta(hours=days % 60)) == in_words.due(
            a, timedelta(hours=days % 60)
        )


@pytest.mark.parametrize("country, subdivision", [("US", ""), ("US", "CA"), ("GB", "SCT")])
def test_public_holidays_by_year_are_the_holidays_package_dates(country, subdivision):
    reference = holidays.country_holidays(country, subdiv=subdivision or None)
    closed = CalendarHolidays(country, subdivision, frozenset())
    day = date(2024, 1, 1)
    while day < date(2029, 1, 1):
        assert (day in closed) == (day in reference), day
        day += timedelta(days=1)
    # New Year's Day 2028 is a Saturday: the US observes it on Friday 31 December 2027.
    assert date(2027, 12, 31) in CalendarHolidays("US", "", frozenset())
