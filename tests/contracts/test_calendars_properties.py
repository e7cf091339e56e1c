"""contracts.calendars against the minute-stepping reference (tests/support/calendar_reference.py),
with random calendars around each zone's DST transitions, and the engine's own laws
(additive, monotone, exact to the microsecond)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contracts.calendars import WEEKDAYS, BusinessCalendar
from tests.support.calendar_reference import MINUTE, ref_due, ref_elapsed

US = timedelta(microseconds=1)


# --- random calendars around each zone's 2026 DST transitions --------------------------

TRANSITIONS = {
    "America/Chicago": ["2026-03-08T08:00", "2026-11-01T07:00"],
    "America/New_York": ["2026-03-08T07:00", "2026-11-01T06:00"],
    "Europe/London": ["2026-03-29T01:00", "2026-10-25T01:00"],
    "Australia/Lord_Howe": ["2026-04-04T15:00", "2026-10-03T15:30"],  # 30-minute shifts
    "America/Santiago": ["2026-04-05T03:00", "2026-09-06T04:00"],  # at local midnight
    "UTC": ["2026-06-15T00:00"],
}


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Quarter hours, weighted towards the wall times the transitions above skip or repeat
# (01:00-03:00, Lord Howe's half hours, Santiago's midnight).
cut_points = st.one_of(
    st.sampled_from([0, 60, 90, 105, 120, 135, 150, 165, 180, 1380, 1410, 1440]),
    st.integers(0, 96).map(lambda quarter: quarter * 15),
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, dict, set, datetime]:
    zone = draw(st.sampled_from(sorted(TRANSITIONS)))
    anchor = datetime.fromisoformat(draw(st.sampled_from(TRANSITIONS[zone]))).replace(tzinfo=UTC)
    weekly = {}
    for weekday in range(7):
        cuts = sorted(draw(st.sets(cut_points, max_size=6)))
        cuts = cuts[: len(cuts) // 2 * 2]
        weekly[weekday] = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]
    assume(any(weekly.values()))
    near = st.integers(-8, 8).map(lambda k: anchor.date() + timedelta(days=k))
    holiday_set = draw(st.sets(near, max_size=4))
    return zone, weekly, holiday_set, anchor


def engine(zone: str, weekly: dict, holiday_set: set) -> BusinessCalendar:
    hours = {WEEKDAYS[d]: [(hhmm(s), hhmm(e)) for s, e in spans] for d, spans in weekly.items()}
    return BusinessCalendar(tz=zone, hours=hours, holidays=holiday_set)


minutes_near = st.one_of(st.integers(-300, 300), st.integers(-4 * 1440, 4 * 1440))
PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(scenarios(), minutes_near, st.one_of(st.integers(0, 600), st.integers(0, 3 * 1440)))
def test_elapsed_matches_the_minute_stepping_reference(scenario, offset, length):
    zone, weekly, holiday_set, anchor = scenario
    a = anchor + offset * MINUTE
    b = a + length * MINUTE
    cal = engine(zone, weekly, holiday_set)
    assert cal.elapsed(a, b) == ref_elapsed(zone, weekly, holiday_set, a, b)


@PROPERTY
@given(scenarios(), minutes_near, st.one_of(st.integers(0, 300), st.integers(0, 2 * 1440)))
def test_due_matches_the_reference_and_is_the_earliest_such_instant(scenario, offset, minutes):
    zone, weekly, holiday_set, anchor = scenario
    weekly_minutes = sum(e - s for spans in weekly.values() for s, e in spans)
    minutes = min(minutes, 2 * weekly_minutes)  # keep the reference's walk short
    start = anchor + offset * MINUTE
    cal = engine(zone, weekly, holiday_set)
    due = cal.due(start, minutes * MINUTE)
    assert due == ref_due(zone, weekly, holiday_set, start, minutes)
    assert due.tzinfo is UTC
    assert cal.elapsed(start, due) == minutes * MINUTE
    if minutes:
        assert cal.elapsed(start, due - US) < minutes * MINUTE


instants_near = st.one_of(  # microseconds
    st.integers(-6 * 3_600_000_000, 6 * 3_600_000_000),
    st.integers(-5 * 86_400_000_000, 5 * 86_400_000_000),
)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.lists(instants_near, min_size=3, max_size=3))
def test_elapsed_is_additive_and_monotone_to_the_microsecond(scenario, offsets):
    zone, weekly, holiday_set, anchor = scenario
    a, b, c = (anchor + k * US for k in sorted(offsets))
    cal = engine(zone, weekly, holiday_set)
    assert cal.elapsed(a, c) == cal.elapsed(a, b) + cal.elapsed(b, c)
    assert cal.elapsed(a, b) <= cal.elapsed(a, c) <= c - a
    assert cal.elapsed(b, c) <= cal.elapsed(a, c)


@settings(max_examples=200, deadline=None)
@given(
    scenarios(),
    st.lists(instants_near, min_size=2, max_size=2),
    st.lists(st.integers(0, 3 * 86_400_000_000), min_size=2, max_size=2),
)
def test_due_is_exact_and_monotone_in_start_and_duration(scenario, starts, durations):
    zone, weekly, holiday_set, anchor = scenario
    s1, s2 = (anchor + k * US for k in sorted(starts))
    d1, d2 = (k * US for k in sorted(durations))
    cal = engine(zone, weekly, holiday_set)
    due = cal.due(s1, d2)
    assert cal.elapsed(s1, due) == d2
    assert d2 == timedelta(0) or cal.elapsed(s1, due - US) < d2
    assert cal.due(s1, d1) <= due <= cal.due(s2, d2)


def test_the_random_anchors_are_real_transitions():
    for zone, anchors in TRANSITIONS.items():
        for iso in anchors[: 2 if zone != "UTC" else 0]:
            t = datetime.fromisoformat(iso).replace(tzinfo=UTC)
            tz = ZoneInfo(zone)
            assert t.astimezone(tz).utcoffset() != (t - MINUTE).astimezone(tz).utcoffset()
