"""Worked examples from the two seed documents, computed by hand, checked exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

from outages.availability import compute
from tests.support.availability_terms import CT, ET, MULTIPLIER, TIERED, outage

JUNE = date(2026, 6, 1)
JUNE_MINUTES = 30 * 24 * 60  # 43,200: no DST change in June


def _verdict(result, fact):
    return next(v for v in result.verdicts if v.outage_id == fact.id)


# ------------------------------------------------------------------ the tiered SLA (004)


def test_tiered_month_removes_scheduled_and_excused_minutes_from_the_denominator():
    down = outage(datetime(2026, 6, 10, 12, tzinfo=ET), datetime(2026, 6, 10, 15, tzinfo=ET))
    maintenance = outage(
        datetime(2026, 6, 14, 1, tzinfo=ET),
        datetime(2026, 6, 14, 5, tzinfo=ET),
        "scheduled_maintenance",
    )
    excused = outage(
        datetime(2026, 6, 20, 10, tzinfo=ET),
        datetime(2026, 6, 20, 11, tzinfo=ET),
        "customer_authorized",
    )
    result = compute(TIERED, month=JUNE, outages=[down, maintenance, excused])
    # Required Monthly Availability = 43,200 − 240 scheduled − 60 excused = 42,900 minutes.
    assert result.denominator_minutes == 42_900
    assert result.removed_seconds == 300 * 60
    assert result.downtime_minutes == 180
    assert result.availability == Fraction(42_900 - 180, 42_900)
    assert result.display == "99.580 %"
    assert _verdict(result, maintenance).code == "removed_from_denominator"
    assert _verdict(result, excused).code == "removed_from_denominator"
    assert _verdict(result, down).seconds == 3 * 3600


def test_downtime_inside_a_maintenance_window_is_not_counted_twice():
    maintenance = outage(
        datetime(2026, 6, 14, 1, tzinfo=ET),
        datetime(2026, 6, 14, 5, tzinfo=ET),
        "scheduled_maintenance",
    )
    down = outage(datetime(2026, 6, 14, 4, tzinfo=ET), datetime(2026, 6, 14, 6, tzinfo=ET))
    result = compute(TIERED, month=JUNE, outages=[maintenance, down])
    assert result.denominator_minutes == JUNE_MINUTES - 240
    assert result.downtime_minutes == 60  # 05:00–06:00 only


def test_exactly_99_50_is_the_top_band_and_one_minute_more_is_below():
    start = datetime(2026, 6, 3, 0, tzinfo=ET)
    # 0.5 % of 43,200 minutes is 216 minutes.
    exact = compute(
        TIERED, month=JUNE, outages=[outage(start, datetime(2026, 6, 3, 3, 36, tzinfo=ET))]
    )
    assert exact.availability == Fraction(995, 1000)
    assert exact.display == "99.500 %"
    worse = compute(
        TIERED, month=JUNE, outages=[outage(start, datetime(2026, 6, 3, 3, 37, tzinfo=ET))]
    )
    assert worse.availability < Fraction(995, 1000)
    assert worse.display == "99.497 %"  # rounded down: a shortfall never displays as met


def test_an_outage_crossing_the_month_boundary_and_the_dst_change_is_split_exactly():
    # 31 Oct 22:00 EDT → 1 Nov 02:00 EST: clocks fall back at 02:00 EDT, so the
    # November part (00:00 EDT → 02:00 EST) is three real hours.
    fact = outage(datetime(2026, 10, 31, 22, tzinfo=ET), datetime(2026, 11, 1, 2, tzinfo=ET))
    october = compute(TIERED, month=date(2026, 10, 1), outages=[fact])
    november = compute(TIERED, month=date(2026, 11, 1), outages=[fact])
    assert october.downtime_minutes == 120
    assert november.downtime_minutes == 180
    assert november.denominator_minutes == 30 * 24 * 60 + 60
    assert november.days[0].downtime_seconds == 3 * 3600
    assert _verdict(october, fact).reason.startswith("counted only inside the month")


def test_a_contract_starting_mid_month_is_measured_on_its_active_part_only():
    before = outage(datetime(2026, 6, 10, 12, tzinfo=ET), datetime(2026, 6, 10, 15, tzinfo=ET))
    after = outage(datetime(2026, 6, 20, 12, tzinfo=ET), datetime(2026, 6, 20, 13, tzinfo=ET))
    result = compute(TIERED, month=JUNE, outages=[before, after], active_from=date(2026, 6, 16))
    assert result.denominator_minutes == 15 * 24 * 60
    assert result.share_of_month == Fraction(1, 2)
    assert result.downtime_minutes == 60
    assert _verdict(result, before).code == "outside_contract_period"


def test_a_terminated_contract_stops_being_measured_after_its_last_day():
    result = compute(TIERED, month=JUNE, outages=[], active_until=date(2026, 6, 9))
    assert result.denominator_minutes == 9 * 24 * 60
    assert result.share_of_month == Fraction(9, 30)


def test_overlapping_outages_are_counted_once():
    first = outage(datetime(2026, 6, 10, 12, tzinfo=ET), datetime(2026, 6, 10, 15, tzinfo=ET))
    second = outage(datetime(2026, 6, 10, 14, tzinfo=ET), datetime(2026, 6, 10, 16, tzinfo=ET))
    inside = outage(datetime(2026, 6, 10, 13, tzinfo=ET), datetime(2026, 6, 10, 14, tzinfo=ET))
    result = compute(TIERED, month=JUNE, outages=[second, inside, first])
    assert result.downtime_minutes == 240
    assert _verdict(result, first).seconds == 3 * 3600
    assert _verdict(result, second).seconds == 3600
    assert _verdict(result, inside).code == "overlap"


def test_an_ongoing_outage_counts_up_to_now_and_the_month_so_far_is_the_denominator():
    fact = outage(datetime(2026, 6, 10, 12, tzinfo=ET), None)
    now = datetime(2026, 6, 10, 14, 30, tzinfo=ET)
    result = compute(TIERED, month=JUNE, outages=[fact], now=now)
    assert result.downtime_minutes == 150
    assert result.period_end == now.astimezone(UTC)
    assert result.denominator_minutes == 9 * 24 * 60 + 14 * 60 + 30


# ------------------------------------------------------------------ the multiplier SLA (000)

NOVEMBER = date(2026, 11, 1)
MARCH = date(2026, 3, 1)


def test_chicago_november_and_march_have_their_dst_lengths():
    assert compute(MULTIPLIER, month=NOVEMBER, outages=[]).denominator_minutes == (
        30 * 24 * 60 + 60
    )
    assert compute(MULTIPLIER, month=MARCH, outages=[]).denominator_minutes == (31 * 24 * 60 - 60)


def test_only_business_hours_downtime_counts_against_all_minutes_of_the_month():
    early = outage(datetime(2026, 11, 3, 4, tzinfo=CT), datetime(2026, 11, 3, 8, tzinfo=CT))
    night = outage(datetime(2026, 11, 4, 21, 30, tzinfo=CT), datetime(2026, 11, 4, 23, tzinfo=CT))
    result = compute(MULTIPLIER, month=NOVEMBER, outages=[early, night])
    assert result.downtime_minutes == 120  # 06:00–08:00 of 04:00–08:00
    assert result.denominator_minutes == 43_260  # every minute of Chicago's November
    assert result.availability == Fraction(43_260 - 120, 43_260)
    assert _verdict(result, night).code == "outside_measured_hours"
    assert result.days[2].downtime_seconds == 7200


def test_downtime_starts_at_confirmation():
    fact = outage(
        datetime(2026, 11, 5, 9, tzinfo=CT),
        datetime(2026, 11, 5, 10, tzinfo=CT),
        confirmed=datetime(2026, 11, 5, 9, 20, tzinfo=CT),
    )
    late = outage(
        datetime(2026, 11, 6, 9, tzinfo=CT),
        datetime(2026, 11, 6, 10, tzinfo=CT),
        confirmed=datetime(2026, 11, 6, 10, 5, tzinfo=CT),
    )
    result = compute(MULTIPLIER, month=NOVEMBER, outages=[fact, late])
    assert result.downtime_minutes == 40
    assert "confirmation" in _verdict(result, fact).reason
    assert _verdict(result, late).code == "before_confirmation"


def test_third_party_and_performance_only_outages_are_permitted_downtime():
    third = outage(
        datetime(2026, 11, 9, 9, tzinfo=CT), datetime(2026, 11, 9, 12, tzinfo=CT), "third_party"
    )
    slow = outage(
        datetime(2026, 11, 10, 9, tzinfo=CT),
        datetime(2026, 11, 10, 12, tzinfo=CT),
        "performance_degradation",
    )
    result = compute(MULTIPLIER, month=NOVEMBER, outages=[third, slow])
    assert result.downtime_seconds == 0 and result.availability == 1
    assert {_verdict(result, third).code, _verdict(result, slow).code} == {"excluded_category"}


def test_an_outage_limited_to_few_customers_below_the_threshold_is_permitted():
    few = outage(
        datetime(2026, 11, 11, 9, tzinfo=CT),
        datetime(2026, 11, 11, 10, tzinfo=CT),
        affected=1,
        of=20,
    )
    enough = outage(
        datetime(2026, 11, 12, 9, tzinfo=CT),
        datetime(2026, 11, 12, 10, tzinfo=CT),
        affected=2,
        of=20,
    )  # exactly 10 %: not fewer than the threshold
    result = compute(MULTIPLIER, month=NOVEMBER, outages=[few, enough])
    assert _verdict(result, few).code == "below_significant_subset"
    assert "1 of 20" in _verdict(result, few).reason
    assert _verdict(result, enough).counted
    assert result.downtime_minutes == 60


def test_only_critical_services_count_under_the_multiplier_policy():
    fact = outage(
        datetime(2026, 11, 13, 9, tzinfo=CT), datetime(2026, 11, 13, 10, tzinfo=CT), critical=False
    )
    result = compute(MULTIPLIER, month=NOVEMBER, outages=[fact])
    assert _verdict(result, fact).code == "non_critical_service"
    assert result.downtime_seconds == 0
    # The tiered policy counts every service.
    assert compute(TIERED, month=NOVEMBER, outages=[fact]).downtime_minutes == 60


def test_scheduled_maintenance_in_business_hours_counts_under_the_multiplier_policy():
    # The multiplier SLA only promises maintenance "after Business Hours as much as
    # possible"; it is not permitted downtime.
    fact = outage(
        datetime(2026, 11, 14, 20, tzinfo=CT),
        datetime(2026, 11, 14, 22, tzinfo=CT),
        "scheduled_maintenance",
    )
    result = compute(MULTIPLIER, month=NOVEMBER, outages=[fact])
    assert result.downtime_minutes == 60
