"""Screening and sweeping outages for the availability engine (see outages.availability)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import NamedTuple
from zoneinfo import ZoneInfo

from outages.facts import PERMITTED, REMOVED, OutageFact, Terms, Verdict
from outages.intervals import Interval, Meter, subtract, whole, whole_seconds

CLIPPED = "counted only inside the month and the contract's active period"


class Window(NamedTuple):
    """The measured period and its month, in UTC (see ``measured_window``)."""

    start: datetime
    end: datetime
    month_start: datetime
    month_end: datetime
    now: datetime | None  # closes ongoing outages; None: the end of the month


def downtime_start(
    started_at: datetime, confirmed_at: datetime | None, *, from_confirmation: bool
) -> datetime | None:
    """When an outage's downtime starts: at its start, or, where the policy says downtime
    starts when the service is "confirmed unavailable", at its confirmation if that came
    later. ``None``: not confirmed yet, so under that policy no downtime has started."""
    if not from_confirmation:
        return started_at
    if confirmed_at is None:
        return None
    return max(started_at, confirmed_at)


class Candidate(NamedTuple):
    """An outage that passed screening: it adds downtime unless earlier ones cover it."""

    outage: OutageFact
    clipped: Interval  # its counted time inside the measured period
    note: str  # for its verdict: any part left out
    span: Interval  # its counted time before clipping (orders the sweep)


class Removal(NamedTuple):
    """An outage whose time leaves the denominator, and its verdict."""

    clipped: Interval
    verdict: Verdict


class Screening(NamedTuple):
    """What screening says of one outage over one period (a bulk run's memo entry)."""

    verdict: Verdict | None  # set when it is excluded (or removed) before any time is measured
    clipped: Interval
    note: str
    span: Interval
    removed: bool = False  # its time leaves the denominator; ``verdict`` says so


class Screened(NamedTuple):
    excluded: list[Verdict]  # excluded before any time is measured (not the removed ones)
    candidates: list[Candidate]  # to sweep
    removed: list[Removal]  # removed from the denominator


class Step(NamedTuple):
    """One candidate's part of the sweep."""

    fresh: list[Interval]  # the time it adds, disjoint from the earlier candidates'
    seconds: int
    verdict: Verdict


ScreenKey = tuple[Terms, OutageFact, datetime, datetime, datetime | None]
NotCountedKey = tuple[OutageFact, Interval, tuple[Interval, ...], Terms]


@dataclass(frozen=True, slots=True)
class Memo:
    """Answers a bulk run shares between its calls, so an outage met by thousands of
    accounts is screened once per period. Keys hold every input of the answer."""

    screened: dict[ScreenKey, Screening] = field(default_factory=dict)
    not_counted: dict[NotCountedKey, Verdict] = field(default_factory=dict)
    outside: dict[int, Verdict] = field(default_factory=dict)  # by outage id


def screen_all(terms: Terms, outages: Sequence[OutageFact], window: Window, memo: Memo) -> Screened:
    """Excluded verdicts, the candidates to sweep, and the outages removed from the
    denominator (their verdicts are not among the excluded)."""
    start, end, month_start, month_end, now = window
    excluded: list[Verdict] = []
    candidates: list[Candidate] = []
    removed: list[Removal] = []
    for outage in outages:
        key = (terms, outage, start, end, now)
        screened = memo.screened.get(key)
        if screened is None:
            screened = _screen(outage, terms, start, end, month_start, month_end, now)
            if screened.verdict is None and terms.exclusions.get(outage.category) == REMOVED:
                reason = (
                    f"{_label(terms, outage.category)}: not counted, and removed "
                    "from the month's required availability"
                )
                verdict = _excluded(outage, "removed_from_denominator", reason)
                screened = screened._replace(verdict=verdict, note="", removed=True)
            memo.screened[key] = screened
        verdict, clipped, note, span, is_removed = screened
        if is_removed:
            removed.append(Removal(clipped, verdict))
        elif verdict is not None:
            excluded.append(verdict)
        else:
            candidates.append(Candidate(outage, clipped, note, span))
    return Screened(excluded, candidates, removed)


def sweep_step(
    candidate: Candidate,
    reach: datetime | None,
    terms: Terms,
    removed: tuple[Interval, ...],
    meter: Meter,
    simple: bool,
    memo: Memo,
) -> Step:
    """One candidate of the sweep, given how far earlier candidates reach: the time it
    adds (disjoint from theirs), its seconds and its verdict."""
    outage, clipped, note, _ = candidate
    begin = clipped.start if reach is None else max(clipped.start, reach)
    if begin >= clipped.end:
        fresh: list[Interval] = []
    elif removed:
        fresh = subtract([Interval(begin, clipped.end)], removed)
    else:
        fresh = [Interval(begin, clipped.end)]
    seconds = (whole_seconds(clipped.end - begin) if fresh else 0) if simple else meter(fresh)
    if seconds:
        verdict = Verdict(outage.id, outage.title, outage.category, True, seconds, note, "counted")
        return Step(fresh, seconds, verdict)
    key = (outage, clipped, removed, terms)
    verdict = memo.not_counted.get(key)
    if verdict is None:
        verdict = memo.not_counted[key] = _not_counted(outage, clipped, removed, meter, simple)
    return Step([], 0, verdict)


def _not_counted(
    outage: OutageFact,
    clipped: Interval,
    removed: tuple[Interval, ...],
    meter: Meter,
    simple: bool,
) -> Verdict:
    if simple:  # 24x7 and nothing removed: only earlier downtime can cover it
        return _excluded(outage, "overlap", "overlaps downtime already counted")
    if meter([clipped]) == 0:
        return _excluded(outage, "outside_measured_hours", "outside the measured hours")
    if meter(subtract([clipped], removed)) == 0:
        return _excluded(
            outage, "overlap_removed", "during time already removed from the denominator"
        )
    return _excluded(outage, "overlap", "overlaps downtime already counted")


def _label(terms: Terms, category: str) -> str:
    return terms.category_labels.get(category, category.replace("_", " "))


def _excluded(outage: OutageFact, code: str, reason: str) -> Verdict:
    return Verdict(outage.id, outage.title, outage.category, False, 0, reason, code)


def _screen(
    outage: OutageFact,
    terms: Terms,
    start: datetime,
    end: datetime,
    month_start: datetime,
    month_end: datetime,
    now: datetime | None,
) -> Screening:
    """The outage's verdict if it is excluded before any time is measured, its time
    clipped to the period, the note for its verdict and its counted time (unclipped)."""
    o_end = whole(outage.ended_at or now or month_end)
    o_start = whole(outage.started_at)
    confirmed_at = None if outage.confirmed_at is None else whole(outage.confirmed_at)
    whole_span = Interval(o_start, o_end)

    def excluded(code: str, reason: str) -> Screening:
        return Screening(_excluded(outage, code, reason), whole_span, "", whole_span)

    note = ""
    if terms.exclusions.get(outage.category) == PERMITTED:
        return excluded(
            "excluded_category",
            f"{_label(terms, outage.category)}: permitted downtime under the policy",
        )
    if terms.counts_only_critical_services and not outage.service_critical:
        return excluded(
            "non_critical_service", "the service is not critical; only critical services count"
        )
    if terms.significant_subset_pct is not None and outage.affected_accounts is not None:
        share = Fraction(outage.affected_accounts, max(outage.service_accounts, 1))
        if share * 100 < Fraction(terms.significant_subset_pct):
            return excluded(
                "below_significant_subset",
                f"affected {outage.affected_accounts} of {outage.service_accounts} customers of "
                f"the service, below the significant subset of {terms.significant_subset_pct} %",
            )
    if terms.downtime_from_confirmation and terms.exclusions.get(outage.category) != REMOVED:
        counted_from = downtime_start(o_start, confirmed_at, from_confirmation=True)
        if counted_from is None:
            return excluded("not_confirmed", "not yet confirmed; downtime starts at confirmation")
        if counted_from >= o_end:
            return excluded("before_confirmation", "ended before it was confirmed")
        if counted_from > o_start:
            local = counted_from.astimezone(ZoneInfo(terms.zone))
            note = f"counted from confirmation at {local:%Y-%m-%d %H:%M %Z}"
            o_start = counted_from
    span = Interval(o_start, o_end)
    clipped = Interval(max(o_start, start), min(o_end, end))
    if clipped.end <= clipped.start:
        if o_start < month_end and o_end > month_start:
            code, reason = "outside_contract_period", "outside the contract's active period"
        else:
            code, reason = "outside_month", "outside the month"
        return Screening(_excluded(outage, code, reason), clipped, "", span)
    if clipped != span and not note:
        note = CLIPPED
    return Screening(None, clipped, note, span)
