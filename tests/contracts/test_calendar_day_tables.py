"""The engine's shortcut (a date's spans are its weekday's table shifted by the UTC offset
of its midnight) against converting every wall time on its own, on every date of years
full of awkward transitions: DST at midnight, 30-minute and 2-hour shifts, a skipped
day, Ramadan suspensions, and zone-wide changes of standard time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contracts.calendars import WEEKDAYS, BusinessCalendar

ZONES = {
    "America/Chicago": (2024, 2027),
    "Europe/London": (2024, 2027),
    "America/Santiago": (2015, 2027),  # changes at local midnight, rules changed often
    "America/Havana": (2010, 2014),  # midnight changes
    "Asia/Gaza": (2020, 2026),  # Saturday-midnight changes, Ramadan suspensions ahead
    "Africa/Casablanca": (2012, 2020),  # DST suspended for Ramadan, then permanent +01
    "Australia/Lord_Howe": (2024, 2026),  # 30-minute DST
    "Antarctica/Troll": (2024, 2026),  # 2-hour DST
    "Pacific/Apia": (2011, 2012),  # 30 December 2011 never happened
    "America/Caracas": (2007, 2008),  # -04:30 from December 2007
    "Europe/Moscow": (2010, 2015),  # permanent +04 in 2011, back to +03 in 2014
    "Asia/Tehran": (2020, 2023),  # DST at 24:00, abolished in 2022
    # 30 March 1919 jumped from 23:30 to 00:30: a gap across midnight, the one case that
    # needs the offset two midnights on, not one.
    "America/Toronto": (1919, 1919),
}

# Boundaries where transitions happen: midnight, the small hours, half hours, late night.
AWKWARD = [("00:00", "00:30"), ("01:00", "02:00"), ("02:30", "03:00"), ("12:00", "23:30")]


def calendars(zone: str) -> list[BusinessCalendar]:
    return [
        BusinessCalendar(tz=zone, hours={day: [("00:00", "24:00")] for day in WEEKDAYS}),
        BusinessCalendar(tz=zone, hours={day: AWKWARD for day in WEEKDAYS}),
        BusinessCalendar(tz=zone, hours={"fri": [("23:00", "24:00")], "sat": [("00:00", "01:30")]}),
    ]


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_shifted_weekday_tables_equal_converting_each_wall_time(zone):
    first, last = ZONES[zone]
    for cal in calendars(zone):
        for ordinal in range(date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal() + 1):
            base, spans, total = cal._day(ordinal)
            exact = cal._converted(ordinal)
            assert tuple((base + s, base + e) for s, e in spans) == exact, date.fromordinal(ordinal)
            assert total == sum(e - s for s, e in exact)


def test_the_skipped_day_in_samoa_has_no_business_time():
    cal = calendars("Pacific/Apia")[0]
    start = datetime(2011, 12, 29, tzinfo=cal.zone)
    # Thursday 29 December 2011 ran to midnight at -10:00 and Saturday began at +14:00.
    assert cal.elapsed(start, start + timedelta(days=3)) == timedelta(days=2)


# --- long ranges: the dates wholly inside are summed by their totals alone ----------------

cut_points = st.integers(0, 96).map(lambda quarter: quarter * 15)


@st.composite
def weeks(draw: st.DrawFn) -> dict[str, list[tuple[str, str]]]:
    hours = {}
    for day in WEEKDAYS:
        cuts = sorted(draw(st.sets(cut_points, max_size=4)))
        cuts = cuts[: len(cuts) // 2 * 2]
        hours[day] = [(_hhmm(cuts[i]), _hhmm(cuts[i + 1])) for i in range(0, len(cuts), 2)]
    assume(any(hours.values()))
    return hours


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@settings(max_examples=150, deadline=None)
@given(
    # The zones furthest ahead of and behind UTC test which dates lie wholly inside.
    zone=st.sampled_from(
        ["America/Chicago", "Australia/Lord_Howe", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
    ),
    hours=weeks(),
    holiday_days=st.sets(st.integers(0, 120), max_size=6),
    start_minute=st.integers(0, 365 * 1440),
    length_minutes=st.one_of(st.integers(6 * 1440, 70 * 1440), st.integers(0, 6 * 1440)),
    second=st.integers(0, 59),
)
def test_a_long_range_is_the_sum_of_its_pieces_of_under_a_day(
    zone, hours, holiday_days, start_minute, length_minutes, second
):
    first = datetime(2026, 1, 1, tzinfo=UTC)
    closed = {first.date() + timedelta(days=start_minute // 1440 + d) for d in holiday_days}
    a = first + timedelta(minutes=start_minute, seconds=second)
    b = a + timedelta(minutes=length_minutes)
    whole = BusinessCalendar(tz=zone, hours=hours, holidays=closed)
    pieces = BusinessCalendar(tz=zone, hours=hours, holidays=closed)
    cuts = [a + timedelta(hours=20) * k for k in range(int((b - a) / timedelta(hours=20)) + 1)]
    expected = sum(
        (pieces.elapsed(x, y) for x, y in zip(cuts, [*cuts[1:], b], strict=True)), timedelta(0)
    )
    assert whole.elapsed(a, b) == expected  # cold: nothing cached yet
    assert whole.elapsed(a, b) == expected  # warm: every date cached


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"])
@pytest.mark.parametrize("hour", [0, 11, 23])
def test_ten_days_around_the_clock_are_ten_days_in_any_zone(zone, hour):
    cal = BusinessCalendar(tz=zone, hours={day: [("00:00", "24:00")] for day in WEEKDAYS})
    a = datetime(2026, 5, 5, hour, 30, tzinfo=UTC)
    assert cal.elapsed(a, a + timedelta(days=10)) == timedelta(days=10)
