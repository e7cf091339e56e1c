"""The status page's uptime maths (``status.uptime``, no database): exact fractions of
UTC days, outages across midnight, ongoing outages measured up to now, overlaps counted
once, and percentages rounded down so a day with any downtime never shows 100 %."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from status.uptime import DEGRADED, MAINTENANCE, OPERATIONAL, OUTAGE, day_bars, percent

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_an_outage_crossing_midnight_counts_on_both_days():
    bars = day_bars({OUTAGE: [(at(18, 23, 30), at(19, 0, 45))]}, now=NOW)
    by_day = {bar.day.day: bar for bar in bars.days if bar.day.month == 11}
    assert by_day[18].down == 30 * 60
    assert by_day[19].down == 45 * 60
    assert by_day[18].uptime == Fraction(86400 - 1800, 86400)
    assert percent(by_day[18].uptime) == "97.916"  # 97.9166…, rounded down
    assert percent(by_day[19].uptime) == "96.875"  # exactly
    assert by_day[17].uptime == 1 and by_day[17].state == OPERATIONAL


def test_an_ongoing_outage_counts_up_to_now_and_today_is_measured_so_far():
    bars = day_bars({OUTAGE: [(at(20, 11), NOW)]}, now=NOW)
    today = bars.days[-1]
    assert (today.day, today.measured, today.down) == (NOW.date(), 12 * 3600, 3600)
    assert today.uptime == Fraction(11, 12)
    assert percent(today.uptime) == "91.666"
    assert len(bars.days) == 90 and bars.days[0].day == NOW.date() - timedelta(days=89)
    # 89 whole days and half of today: 7,732,800 s, 3,600 of them down.
    assert bars.uptime == Fraction(7_732_800 - 3600, 7_732_800)
    assert percent(bars.uptime) == "99.953"


def test_overlapping_outages_count_once_and_only_outages_lower_uptime():
    bars = day_bars(
        {
            OUTAGE: [(at(10, 10), at(10, 11)), (at(10, 10, 30), at(10, 11, 30))],
            DEGRADED: [(at(11, 9), at(11, 17))],
            MAINTENANCE: [(at(12, 2), at(12, 4))],
        },
        now=NOW,
    )
    by_day = {bar.day.day: bar for bar in bars.days if bar.day.month == 11}
    assert by_day[10].down == 90 * 60 and by_day[10].state == OUTAGE
    assert (by_day[11].uptime, by_day[11].degraded, by_day[11].state) == (1, 8 * 3600, DEGRADED)
    assert (by_day[12].uptime, by_day[12].maintenance, by_day[12].state) == (1, 7200, MAINTENANCE)
    assert bars.down == 90 * 60


def test_uptime_is_rounded_down_never_up_to_100():
    assert percent(Fraction(86399, 86400)) == "99.998"
    assert percent(Fraction(1)) == "100"
    assert percent(Fraction(0)) == "0.000"
