"""The one "downtime starts at confirmation" rule (outages.screening.downtime_start), used
by the availability engine and by the credit eligibility check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outages.screening import downtime_start

START = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)


def test_downtime_starts_at_the_outage_unless_the_policy_says_confirmation():
    later = START + timedelta(minutes=20)
    assert downtime_start(START, later, from_confirmation=False) == START
    assert downtime_start(START, None, from_confirmation=False) == START


def test_from_confirmation_downtime_starts_when_it_was_confirmed():
    later = START + timedelta(minutes=20)
    assert downtime_start(START, later, from_confirmation=True) == later


def test_a_confirmation_at_the_start_starts_downtime_at_the_start():
    assert downtime_start(START, START, from_confirmation=True) == START
    # Never before the outage itself, whatever the record says.
    assert downtime_start(START, START - timedelta(minutes=5), from_confirmation=True) == START


def test_an_unconfirmed_outage_has_no_downtime_yet_when_it_starts_at_confirmation():
    assert downtime_start(START, None, from_confirmation=True) is None
