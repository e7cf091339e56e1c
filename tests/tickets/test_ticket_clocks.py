"""SLA clocks on the tiered policy's help desk (catalog: Heretto CCMS — 03:00–20:00 ET
Monday to Friday, US federal holidays closed, severity 1 around the clock).

Targets (seed §4.2): S1 30 min / 8 h (24x7); S2 4 h / 2 business days; S3 8 h / 4
business days; S4 48 h / no resolution target. A business day there is 17 h.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.calendars import BusinessCalendar
from tickets.clocks import (
    AT_RISK,
    BREACHED,
    MET,
    NO_TARGET,
    ON_TRACK,
    PAUSED,
    compute_ticket_clocks,
    deadline,
    running_time,
)
from tickets.selectors import support_terms_for

ET = ZoneInfo("America/New_York")
H = timedelta(hours=1)


def et(*args) -> datetime:
    return datetime(*args, tzinfo=ET)


@pytest.fixture
def terms(tiered_contract):
    return support_terms_for(tiered_contract)


def clocks_for(terms, severity, received_at, *, now=None, **kw):
    return compute_ticket_clocks(
        terms=terms,
        severity=severity,
        received_at=received_at,
        now=now or received_at,
        **kw,
    )


def test_the_catalog_help_desk_is_17_hours_on_weekdays_and_closes_on_federal_holidays(terms):
    desk = terms.calendar_for(2)
    assert desk.tz == "America/New_York"
    assert desk.business_days(1) == 17 * H
    assert desk.elapsed(et(2026, 6, 8), et(2026, 6, 9)) == 17 * H  # a Monday
    assert desk.elapsed(et(2026, 11, 26), et(2026, 11, 27)) == timedelta(0)  # Thanksgiving
    assert terms.targets(2) == (4 * H, 34 * H)
    assert terms.targets(3) == (8 * H, 68 * H)
    assert terms.targets(4) == (48 * H, None)


def test_friday_evening_severity_2_continues_on_monday_morning(terms):
    # 30 minutes left on Friday; the rest from 03:00 on Monday.
    c = clocks_for(terms, 2, et(2026, 6, 5, 19, 30))
    assert c.response.due_at == et(2026, 6, 8, 6, 30)
    assert c.response.at_risk_at == et(2026, 6, 8, 5, 30)  # 3 of 4 hours used
    # 2 business days: the same local time two business days later.
    assert c.resolution.due_at == et(2026, 6, 9, 19, 30)
    assert c.response.due_at.tzinfo == UTC


def test_a_ticket_filed_after_friday_closing_starts_its_clock_on_monday(terms):
    c = clocks_for(terms, 3, et(2026, 6, 5, 21, 0))
    assert c.response.due_at == et(2026, 6, 8, 11, 0)
    assert c.resolution.due_at == et(2026, 6, 11, 20, 0)  # 68 h: Mon–Thu, ending at closing


def test_thanksgiving_is_skipped(terms):
    # Wednesday 16:00: 4 h left that day, Thursday 26 Nov is Thanksgiving.
    c = clocks_for(terms, 3, et(2026, 11, 25, 16))
    assert c.response.due_at == et(2026, 11, 27, 7, 0)
    # 4 business days: Fri 27, Mon 30, Tue 1, Wed 2 Dec.
    assert c.resolution.due_at == et(2026, 12, 2, 16, 0)


def test_christmas_day_is_skipped(terms):
    # Thursday 24 Dec 18:00; Friday 25 Dec is Christmas Day, then the weekend.
    c = clocks_for(terms, 2, et(2026, 12, 24, 18))
    assert c.response.due_at == et(2026, 12, 28, 5, 0)
    assert c.resolution.due_at == et(2026, 12, 29, 18, 0)


def test_the_week_daylight_saving_time_ends(terms):
    # Friday 30 Oct 12:00 EDT (16:00 UTC); clocks go back on Sunday 1 Nov.
    received = et(2026, 10, 30, 12)
    assert received == datetime(2026, 10, 30, 16, tzinfo=UTC)
    c = clocks_for(terms, 3, received)
    assert c.response.due_at == et(2026, 10, 30, 20, 0)  # that evening's closing
    # Same wall time four business days later, now in EST: 17:00 UTC, not 16:00.
    assert c.resolution.due_at == et(2026, 11, 5, 12, 0)
    assert c.resolution.due_at == datetime(2026, 11, 5, 17, tzinfo=UTC)
    s4 = clocks_for(terms, 4, received)
    assert s4.response.due_at == et(2026, 11, 4, 9, 0)  # 48 business hours: 8 + 17 + 17 + 6


def test_severity_1_runs_around_the_clock_through_nights_weekends_holidays_and_dst(terms):
    # Saturday 23:00 EDT, three hours before the clocks go back.
    c = clocks_for(terms, 1, et(2026, 10, 31, 23))
    assert c.response.due_at == datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    # 8 real hours: 11:00 UTC, which the wall clock shows as 06:00 EST (7 h later).
    assert c.resolution.due_at == datetime(2026, 11, 1, 11, tzinfo=UTC)
    assert c.resolution.due_at.astimezone(ET).hour == 6
    christmas = clocks_for(terms, 1, et(2026, 12, 25, 10))
    assert christmas.response.due_at == et(2026, 12, 25, 10, 30)
    assert christmas.resolution.due_at == et(2026, 12, 25, 18, 0)


def test_severity_4_has_no_resolution_target(terms):
    c = clocks_for(terms, 4, et(2026, 6, 8, 10), now=et(2026, 9, 1))
    assert c.resolution.state == NO_TARGET
    assert c.resolution.due_at is None and c.resolution.at_risk_at is None
    assert c.resolution.target is None and c.resolution.remaining is None
    assert c.response.state == BREACHED  # its 48 h response target still applies
    assert c.response.due_at == et(2026, 6, 11, 7, 0)  # 48 business hours: 10 + 17 + 17 + 4


def test_pauses_push_the_deadlines_back_by_the_business_time_they_cover(terms):
    received = et(2026, 6, 8, 10)  # Monday; response due 14:00, resolution Wed 10:00
    pauses = [
        (et(2026, 6, 8, 11), et(2026, 6, 8, 13)),  # 2 business hours
        (et(2026, 6, 8, 19), et(2026, 6, 9, 5)),  # overnight: 19–20 and 03–05 count, 3 h
    ]
    c = clocks_for(terms, 2, received, pauses=pauses, now=et(2026, 6, 9, 6))
    assert c.response.due_at == et(2026, 6, 8, 16, 0)
    assert c.resolution.due_at == et(2026, 6, 10, 15, 0)
    assert c.resolution.elapsed == 7 * H + 1 * H  # Mon 10–11, 13–19; Tue 05–06


def test_a_clock_waiting_on_the_customer_is_paused_with_its_time_left(terms):
    received = et(2026, 6, 8, 10)
    c = clocks_for(terms, 2, received, pauses=[(et(2026, 6, 8, 11), None)], now=et(2026, 6, 10, 12))
    assert c.response.state == PAUSED and c.response.due_at is None
    assert c.response.elapsed == 1 * H and c.response.remaining == 3 * H
    # 75 % was not reached before the pause either.
    assert c.response.at_risk_at is None


def test_a_deadline_passed_before_the_pause_stays_breached(terms):
    received = et(2026, 6, 8, 10)
    c = clocks_for(terms, 2, received, pauses=[(et(2026, 6, 8, 15), None)], now=et(2026, 6, 8, 16))
    assert c.response.due_at == et(2026, 6, 8, 14)
    assert c.response.state == BREACHED
    assert c.resolution.state == PAUSED


def test_reclassification_3_to_1_measures_from_receipt_under_severity_1(terms):
    received = et(2026, 6, 5, 19)  # Friday evening
    as_3 = clocks_for(terms, 3, received, now=et(2026, 6, 5, 19, 10))
    assert as_3.response.due_at == et(2026, 6, 8, 10, 0)  # 1 h Friday, 7 h Monday
    as_1 = clocks_for(terms, 1, received, now=et(2026, 6, 5, 19, 10))
    assert as_1.response.due_at == et(2026, 6, 5, 19, 30)  # from receipt, around the clock
    assert as_1.resolution.due_at == et(2026, 6, 6, 3, 0)
    assert as_1.response.state == ON_TRACK
    assert as_1.response.at_risk_at == et(2026, 6, 5, 19, 22, 30)
    late = clocks_for(terms, 1, received, now=et(2026, 6, 5, 20))
    assert late.response.state == BREACHED


def test_states_over_a_ticket_s_life(terms):
    received = et(2026, 6, 8, 10)  # S2: response due 14:00, at risk from 13:00

    def state(now, **kw):
        return clocks_for(terms, 2, received, now=now, **kw).response.state

    assert state(et(2026, 6, 8, 12)) == ON_TRACK
    assert state(et(2026, 6, 8, 13)) == AT_RISK
    assert state(et(2026, 6, 8, 14)) == AT_RISK  # the deadline instant itself is still in time
    assert state(et(2026, 6, 8, 14, 1)) == BREACHED
    assert state(et(2026, 6, 9), responded_at=et(2026, 6, 8, 14)) == MET
    assert state(et(2026, 6, 9), responded_at=et(2026, 6, 8, 14, 1)) == BREACHED
    # Resolved before anyone answered: no answer is owed any more.
    assert state(et(2026, 6, 9), resolved_at=et(2026, 6, 8, 12)) == MET


def test_a_pause_after_the_first_response_does_not_move_the_response_deadline(terms):
    c = clocks_for(
        terms,
        2,
        et(2026, 6, 8, 10),
        pauses=[(et(2026, 6, 8, 12), None)],
        responded_at=et(2026, 6, 8, 11),
        now=et(2026, 6, 9),
    )
    assert c.response.due_at == et(2026, 6, 8, 14)
    assert c.response.state == MET
    assert c.resolution.state == PAUSED


def test_without_pauses_the_deadline_is_the_calendar_s_due():
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    desk = BusinessCalendar(
        tz="America/New_York", hours={d: [("03:00", "20:00")] for d in weekdays}
    )
    start = et(2026, 6, 8, 19)
    assert deadline(desk, start, 5 * H) == desk.due(start, 5 * H)
    assert deadline(desk, start, 5 * H, [(et(2026, 6, 8, 21), et(2026, 6, 9, 2))]) == desk.due(
        start, 5 * H
    )


# ---------------------------------------------------------------- laws of the pure module

DESK = BusinessCalendar(
    tz="America/New_York",
    hours={day: [("03:00", "20:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
    holidays=holidays.country_holidays("US"),
)
BASE = datetime(2026, 10, 26, tzinfo=UTC)  # the week before DST ends, Thanksgiving in reach
minutes = st.integers(0, 60 * 24 * 40)


@st.composite
def pause_lists(draw):
    points = sorted(draw(st.lists(minutes, max_size=8, unique=True)))
    pairs = [
        (BASE + timedelta(minutes=a), BASE + timedelta(minutes=b))
        for a, b in zip(points[::2], points[1::2], strict=False)
    ]
    return pairs


@settings(max_examples=150, deadline=None)
@given(start=minutes, target=st.integers(1, 60 * 80), pauses=pause_lists())
def test_the_deadline_is_the_first_instant_with_the_target_used_outside_the_pauses(
    start, target, pauses
):
    begin = BASE + timedelta(minutes=start)
    duration = timedelta(minutes=target)
    due = deadline(DESK, begin, duration, pauses)
    assert running_time(DESK, begin, due, pauses) == duration
    assert running_time(DESK, begin, due - timedelta(microseconds=1), pauses) < duration
    assert due >= DESK.due(begin, duration)  # pauses only ever push a deadline back


@settings(max_examples=100, deadline=None)
@given(start=minutes, target=st.integers(1, 60 * 80), pause_start=minutes)
def test_an_open_pause_hides_the_deadline_only_when_it_begins_before_it(start, target, pause_start):
    begin = BASE + timedelta(minutes=start)
    duration = timedelta(minutes=target)
    paused_from = BASE + timedelta(minutes=pause_start)
    plain = DESK.due(begin, duration)
    due = deadline(DESK, begin, duration, [(paused_from, None)])
    assert due == (plain if plain <= max(paused_from, begin) else None)
