"""contracts.calendars: named examples (DST months, the contracts' calendars) and validation."""

from __future__ import annotations

import os
import subprocess
import sys
import time as timer
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest

from contracts.calendars import (
    WEEKDAYS,
    BusinessCalendar,
    CalendarError,
    parse_hours,
    validate_time_zone,
)

ROOT = Path(__file__).resolve().parents[2]
NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")
WEEKDAYS_MON_FRI = ("mon", "tue", "wed", "thu", "fri")


def help_desk(holiday_set: object = None) -> BusinessCalendar:
    """The tiered SLA's help desk: 3am-8pm ET, Monday to Friday, US holidays."""
    return BusinessCalendar(
        tz="America/New_York",
        hours={day: [("03:00", "20:00")] for day in WEEKDAYS_MON_FRI},
        holidays=holidays.country_holidays("US") if holiday_set is None else holiday_set,
    )


def every_day(tz: str, start: str, end: str) -> BusinessCalendar:
    return BusinessCalendar(tz=tz, hours={day: [(start, end)] for day in WEEKDAYS})


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def chi(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHI)


# --- DST --------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["America/Chicago", "America/New_York"])
def test_a_24_hour_local_day_is_23_hours_in_march_and_25_in_november(zone):
    cal = every_day(zone, "00:00", "24:00")
    tz = ZoneInfo(zone)
    spring = cal.elapsed(datetime(2026, 3, 8, tzinfo=tz), datetime(2026, 3, 9, tzinfo=tz))
    fall = cal.elapsed(datetime(2026, 11, 1, tzinfo=tz), datetime(2026, 11, 2, tzinfo=tz))
    assert (spring, fall) == (timedelta(hours=23), timedelta(hours=25))
    assert cal.business_days(1) == timedelta(hours=24)


@pytest.mark.parametrize("zone", ["America/Chicago", "America/New_York"])
def test_a_midnight_to_3am_window_crossing_the_2am_transition(zone):
    cal = every_day(zone, "00:00", "03:00")
    tz = ZoneInfo(zone)
    march = cal.elapsed(datetime(2026, 3, 8, tzinfo=tz), datetime(2026, 3, 9, tzinfo=tz))
    november = cal.elapsed(datetime(2026, 11, 1, tzinfo=tz), datetime(2026, 11, 2, tzinfo=tz))
    assert (march, november) == (timedelta(hours=2), timedelta(hours=4))
    # 1 h before the spring jump lands at 03:00 daylight time, which is closing time.
    assert cal.due(datetime(2026, 3, 8, 1, tzinfo=tz), timedelta(hours=1)) == datetime(
        2026, 3, 8, 3, tzinfo=tz
    )


def test_an_opening_time_inside_the_spring_gap_opens_at_the_transition():
    cal = BusinessCalendar(tz="America/New_York", hours={"sun": [("02:30", "04:00")]})
    assert cal.elapsed(ny(2026, 3, 8), ny(2026, 3, 9)) == timedelta(hours=1)
    assert cal.due(ny(2026, 3, 8), timedelta(minutes=1)) == ny(2026, 3, 8, 3, 1)
    assert cal.elapsed(ny(2026, 3, 15), ny(2026, 3, 16)) == timedelta(hours=1, minutes=30)


def test_an_interval_inside_the_repeated_hour_counts_its_first_pass_only():
    cal = BusinessCalendar(tz="America/New_York", hours={"sun": [("01:00", "01:30")]})
    assert cal.elapsed(ny(2026, 11, 1), ny(2026, 11, 2)) == timedelta(minutes=30)
    first_pass_end = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert cal.due(ny(2026, 11, 1), timedelta(minutes=30)) == first_pass_end


# --- the contracts' calendars -----------------------------------------------------------


def test_thanksgiving_is_closed_on_the_help_desk():
    cal = help_desk()
    assert cal.elapsed(ny(2026, 11, 26), ny(2026, 11, 27)) == timedelta(0)
    assert cal.due(ny(2026, 11, 25, 19), timedelta(hours=2)) == ny(2026, 11, 27, 4)


def test_a_ticket_filed_friday_night_is_due_monday_morning():
    due = help_desk().due(ny(2026, 11, 20, 21), timedelta(minutes=30))
    assert due == ny(2026, 11, 23, 3, 30)
    assert due.tzinfo is UTC


def test_a_deadline_landing_on_closing_time_is_the_closing_instant():
    assert help_desk().due(ny(2026, 11, 23, 19), timedelta(hours=1)) == ny(2026, 11, 23, 20)


def test_two_business_days_is_the_same_local_time_two_open_days_later():
    cal = help_desk()
    assert cal.business_days(2) == timedelta(hours=34)
    assert cal.due(ny(2026, 11, 18, 10), cal.business_days(2)) == ny(2026, 11, 20, 10)
    # Thanksgiving (Thursday) is skipped, and so is the weekend.
    assert cal.due(ny(2026, 11, 25, 10), cal.business_days(2)) == ny(2026, 11, 30, 10)


def test_business_days_uses_the_most_common_day_length_and_ties_go_longer():
    weekday_and_short_saturday = {day: [("09:00", "17:00")] for day in WEEKDAYS_MON_FRI}
    weekday_and_short_saturday["sat"] = [("09:00", "13:00")]
    cal = BusinessCalendar(tz="UTC", hours=weekday_and_short_saturday)
    assert cal.business_days(1) == timedelta(hours=8)
    tie = {"mon": [("09:00", "15:00")], "tue": [("09:00", "17:00")]}
    assert BusinessCalendar(tz="UTC", hours=tie).business_days(3) == timedelta(hours=24)
    with pytest.raises(ValueError):
        cal.business_days(-1)


def test_several_intervals_a_day_skip_the_gap_between_them():
    hours = {day: [("06:00", "12:00"), ("13:00", "21:00")] for day in WEEKDAYS}
    cal = BusinessCalendar(tz="America/Chicago", hours=hours)
    assert cal.elapsed(chi(2026, 6, 1), chi(2026, 6, 2)) == timedelta(hours=14)
    assert cal.due(chi(2026, 6, 1, 11), timedelta(hours=2)) == chi(2026, 6, 1, 14)
    assert cal.due(chi(2026, 6, 1, 11), timedelta(hours=1)) == chi(2026, 6, 1, 12)
    assert cal.business_days(1) == timedelta(hours=14)


def test_a_24_00_end_runs_into_the_next_day_opening_at_midnight():
    hours = {"mon": [("20:00", "24:00")], "tue": [("00:00:00", time(4))]}
    cal = BusinessCalendar(tz="America/New_York", hours=hours)
    assert cal.due(ny(2026, 6, 1, 23), timedelta(hours=2)) == ny(2026, 6, 2, 1)
    assert cal.elapsed(ny(2026, 6, 1), ny(2026, 6, 3)) == timedelta(hours=8)
    assert cal.due(ny(2026, 6, 1, 20), timedelta(hours=4)) == ny(2026, 6, 2)


def test_the_multiplier_sla_calendar_counts_6am_to_9pm_central_every_day():
    cal = every_day("America/Chicago", "06:00", "21:00")
    march = cal.elapsed(chi(2026, 3, 1), chi(2026, 4, 1))
    assert march == timedelta(hours=31 * 15)  # the 2am DST change is outside the hours
    assert cal.elapsed(chi(2026, 3, 7, 20), chi(2026, 3, 7, 23)) == timedelta(hours=1)
    assert cal.business_days(1) == timedelta(hours=15)


def test_always_is_plain_subtraction():
    cal = BusinessCalendar.always()
    a = datetime(2026, 3, 7, 22, 13, 5, 123456, tzinfo=NY)
    b = datetime(2026, 11, 2, 1, 0, 0, 7, tzinfo=CHI)
    assert cal.elapsed(a, b) == b - a
    assert cal.due(a, b - a) == b
    assert cal.business_days(2) == timedelta(days=2)


def test_due_of_zero_is_the_start_itself_even_when_closed():
    saturday_night = ny(2026, 11, 21, 23, 15)
    due = help_desk().due(saturday_night, timedelta(0))
    assert due == saturday_night and due.tzinfo is UTC


def test_holidays_may_be_a_plain_list_of_dates():
    cal = help_desk([date(2026, 11, 26)])
    assert cal.elapsed(ny(2026, 11, 26), ny(2026, 11, 27)) == timedelta(0)
    assert cal.elapsed(ny(2026, 11, 27), ny(2026, 11, 28)) == timedelta(hours=17)


def test_a_twenty_year_span_costs_days_not_minutes():
    cal = help_desk()
    started = timer.perf_counter()
    total = cal.elapsed(ny(2020, 1, 1), ny(2040, 1, 1))
    assert timer.perf_counter() - started < 2
    assert timedelta(days=200) < total < timedelta(days=20 * 365)


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "hours", "message"),
    [
        (
            "UTC",
            {"tue": [("09:00", "12:00"), ("11:00", "13:00")]},
            "overlapping intervals on tue: 09:00-12:00 and 11:00-13:00",
        ),
        ("UTC", {"mon": [("17:00", "09:00")]}, "reversed interval 17:00-09:00 on mon"),
        ("UTC", {"mon": [("09:00", "09:00")]}, "reversed interval 09:00-09:00 on mon"),
        (
            "Mars/Olympus_Mons",
            {"mon": [("09:00", "17:00")]},
            "unknown time zone 'Mars/Olympus_Mons'",
        ),
        ("", {"mon": [("09:00", "17:00")]}, "time zone is missing"),
        ("UTC", {"monday": [("09:00", "17:00")]}, "unknown weekday 'monday'"),
        ("UTC", {"mon": [("9am", "17:00")]}, "malformed time '9am' on mon"),
        ("UTC", {"mon": [("09:00", "24:30")]}, "malformed time '24:30' on mon"),
        ("UTC", {"mon": ["09:00-17:00"]}, "must be a (start, end) pair"),
        ("UTC", {"mon": []}, "calendar has no opening hours"),
        ("UTC", {}, "calendar has no opening hours"),
    ],
)
def test_bad_calendars_are_refused_with_a_message_naming_the_problem(tz, hours, message):
    with pytest.raises(CalendarError) as error:
        BusinessCalendar(tz=tz, hours=hours)
    assert message in str(error.value)
    assert isinstance(error.value, ValueError)


def test_the_validators_are_usable_without_building_a_calendar():
    validate_time_zone("America/Chicago")
    with pytest.raises(CalendarError, match="unknown time zone"):
        validate_time_zone("America")
    weekly = parse_hours(
        {"mon": [("09:00", "12:00"), ("12:00", "17:30:15")], 6: [("00:00", "24:00")]}
    )
    assert weekly[0] == ((9 * 3600, 17 * 3600 + 30 * 60 + 15),)  # touching intervals merge
    assert weekly[6] == ((0, 86400),)
    assert weekly[1:6] == ((),) * 5
    with pytest.raises(CalendarError, match="overlapping intervals on wed"):
        parse_hours({"wed": [("10:00", "11:00"), ("08:00", "10:30")]})


def test_holidays_must_be_dates():
    with pytest.raises(CalendarError, match="is not a date"):
        help_desk([datetime(2026, 11, 26, tzinfo=UTC)])


def test_naive_datetimes_negative_durations_and_reversed_ranges_are_refused():
    cal = help_desk()
    with pytest.raises(ValueError, match="naive datetime"):
        cal.elapsed(datetime(2026, 1, 5, 9), ny(2026, 1, 6))
    with pytest.raises(ValueError, match="naive datetime"):
        cal.due(datetime(2026, 1, 5, 9), timedelta(hours=1))
    with pytest.raises(ValueError, match="negative duration"):
        cal.due(ny(2026, 1, 5, 9), timedelta(seconds=-1))
    with pytest.raises(ValueError, match="is before start"):
        cal.elapsed(ny(2026, 1, 6), ny(2026, 1, 5))


def test_a_calendar_closed_by_holidays_forever_does_not_hang():
    cal = BusinessCalendar(tz="UTC", hours={"mon": [("09:00", "17:00")]}, holidays=_AllDates())
    with pytest.raises(ValueError, match="no opening hours for"):
        cal.due(datetime(2026, 1, 5, tzinfo=UTC), timedelta(hours=1))


class _AllDates:
    def __contains__(self, day: object) -> bool:
        return True


def test_the_engine_imports_without_django_settings_or_a_database():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys; from datetime import datetime, timedelta, timezone;"
        "from contracts.calendars import BusinessCalendar;"
        "cal = BusinessCalendar.always(); a = datetime(2026, 1, 1, tzinfo=timezone.utc);"
        "assert cal.elapsed(a, a + timedelta(hours=5)) == timedelta(hours=5);"
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules);"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
