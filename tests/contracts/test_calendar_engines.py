"""Stored calendars become BusinessCalendar engines with their holidays and zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contracts.models import Calendar
from contracts.selectors import business_calendar_for
from contracts.services import CalendarSpec, calendar_upsert

ET = ZoneInfo("America/New_York")
CT = ZoneInfo("America/Chicago")


def test_help_desk_is_closed_on_thanksgiving(catalog):
    desk = business_calendar_for(Calendar.objects.get(code="heretto-help-desk"))
    week = desk.elapsed(datetime(2026, 11, 23, tzinfo=ET), datetime(2026, 11, 28, tzinfo=ET))
    assert week == timedelta(hours=4 * 17)  # Mon, Tue, Wed, Fri; Thanksgiving closed


def test_custom_holidays_close_the_day_on_top_of_public_holidays(db):
    calendar = calendar_upsert(
        CalendarSpec(
            code="desk-plus",
            name="Desk plus",
            time_zone="America/New_York",
            hours={d: [("03:00", "20:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
            holiday_country="US",
            custom_holidays=[(date(2026, 11, 27), "Day after Thanksgiving")],
        )
    )
    desk = business_calendar_for(calendar)
    week = desk.elapsed(datetime(2026, 11, 23, tzinfo=ET), datetime(2026, 11, 28, tzinfo=ET))
    assert week == timedelta(hours=3 * 17)


def test_subdivision_holidays_apply(db):
    calendar = calendar_upsert(
        CalendarSpec(
            code="edinburgh",
            name="Edinburgh office",
            time_zone="Europe/London",
            hours={d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
            holiday_country="GB",
            holiday_subdivision="SCT",
        )
    )
    office = business_calendar_for(calendar)
    london = ZoneInfo("Europe/London")
    # St Andrew's Day, Monday 30 November 2026, is a bank holiday in Scotland only.
    monday = office.elapsed(
        datetime(2026, 11, 30, tzinfo=london), datetime(2026, 12, 1, tzinfo=london)
    )
    assert monday == timedelta(0)


@pytest.mark.parametrize(
    ("month", "following", "length"),
    [
        (date(2026, 11, 1), date(2026, 12, 1), timedelta(days=30, hours=1)),
        (date(2026, 3, 1), date(2026, 4, 1), timedelta(days=31, hours=-1)),
        (date(2026, 6, 1), date(2026, 7, 1), timedelta(days=30)),
    ],
)
def test_the_tiered_policy_month_is_measured_in_its_zone(catalog, month, following, length):
    always = business_calendar_for(Calendar.objects.get(code="24x7-new-york"))
    start = datetime.combine(month, datetime.min.time(), ET)
    end = datetime.combine(following, datetime.min.time(), ET)
    assert always.elapsed(start, end) == length


def test_multiplier_business_hours_skip_the_dst_change_at_two_in_the_morning(catalog):
    hours = business_calendar_for(Calendar.objects.get(code="balto-business-hours"))
    month = hours.elapsed(datetime(2026, 11, 1, tzinfo=CT), datetime(2026, 12, 1, tzinfo=CT))
    assert month == timedelta(hours=30 * 15)


def test_engine_is_reused_until_the_calendar_changes(catalog):
    stored = Calendar.objects.get(code="heretto-help-desk")
    assert business_calendar_for(stored) is business_calendar_for(stored)
    before = business_calendar_for(stored)
    stored.intervals.filter(weekday=4).update(end_minute=18 * 60)
    after = business_calendar_for(stored)
    assert after is not before
    friday = datetime(2026, 11, 20, tzinfo=ET)
    assert after.elapsed(friday, friday + timedelta(days=1)) == timedelta(hours=15)
