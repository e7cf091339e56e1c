"""Screening and sweeping outages for the availability engine (see outages.availability)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from outages.facts import PERMITTED, REMOVED, OutageFact, Terms, Verdict
from outages.intervals import Interval, Meter, subtract, whole, whole_seconds

Candidate = tuple[OutageFact, Interval, str, Interval]  # (outage, clipped, note, counted span)
CLIPPED = "counted only inside the month and the contract's active period"

_REMOVED = "\0removed"  # marks a screened outage whose time leaves the denominator


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


def screen_all(
    terms: Terms, outages: Sequence[OutageFact], window: tuple, memo: dict
) -> tuple[list[Verdict], list[Candidate], list[tuple[Interval, Verdict]]]:
    """Excluded verdicts, the candidates to sweep, and the outages removed from the
    denominator (their time and verdict; their verdicts are not in the first list)."""
    start, end, month_start, month_end, now = window
    excluded: list[Verdict] = []
    candidates: list[Candidate] = []
    removed: list[tuple[Interval, Verdict]] = []
    for outage in outages:
        key = (terms, outage, start, end, now)
        screened = memo.get(key)
        if screened is None:
            screened = _screen(outage, terms, start, end, month_start, month_end, now)
            if screened[0] is None and terms.exclusions.get(outage.category) == REMOVED:
                reason = (
                    f"{_label(terms, outage.category)}: not counted, and removed "
                    "from the month's required availability"
                )
                verdict = _excluded(outage, "removed_from_denominator", reason)
                screened = (verdict, screened[1], _REMOVED, screened[3])
            memo[key] = screened
        verdict, clipped, note, span = screened
        if note is _REMOVED:
            removed.append((clipped, verdict))
        elif verdict is not None:
            excluded.append(verdict)
        else:
            candidates.append((outage, clipped, note, span))
    return excluded, candidates, removed


def sweep_step(
    candidate: Candidate,
    reach: datetime | None,
    terms: Terms,
    removed: tuple[Interval, ...],
    meter: Meter,
    simple: bool,
    memo: dict,
) -> tuple[list[Interval], int, Verdict]:
    """One candidate of the sweep, given how far earlier candidates reach: the time it
    adds (disjoint from theirs), its seconds and its verdict."""
    outage, clipped, note, _ = candidate
    begin = clipped[0] if reach is None else max(clipped[0], reach)
    if begin >= clipped[1]:
        fresh: list[Interval] = []
    elif removed:
        fresh = subtract([(begin, clipped[1])], removed)
    else:
        fresh = [(begin, clipped[1])]
    seconds = (whole_seconds(clipped[1] - begin) if fresh else 0) if simple else meter(fresh)
    if seconds:
        verdict = Verdict(outage.id, outage.title, outage.category, True, seconds, note, "counted")
        return fresh, seconds, verdict
    overlap_key = ("not counted", outage, clipped, removed, terms)
    verdict = memo.get(overlap_key)
    if verdict is None:
        why = (
            ("overlap", "overlaps downtime already counted")
            if simple
            else _why_not_counted(clipped, removed, meter)
        )
        verdict = memo[overlap_key] = _excluded(outage, *why)
    return [], 0, verdict


def _why_not_counted(
    clipped: Interval, removed: tuple[Interval, ...], meter: Meter
) -> tuple[str, str]:
    if meter([clipped]) == 0:
        return "outside_measured_hours", "outside the measured hours"
    if meter(subtract([clipped], removed)) == 0:
        return "overlap_removed", "during time already removed from the denominator"
    return "overlap", "overlaps downtime already counted"


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
) -> tuple[Verdict | None, Interval, str, Interval]:
    """(verdict if excluded before any time is measured, clipped span, note, counted span)."""
    o_end = whole(outage.ended_at or now or month_end)
    o_start = whole(outage.started_at)
    confirmed_at = None if outage.confirmed_at is None else whole(outage.confirmed_at)
    note = ""
    if terms.exclusions.get(outage.category) == PERMITTED:
        return (
            _excluded(
                outage,
                "excluded_category",
                f"{_label(terms, outage.category)}: permitted downtime under the policy",
            ),
            (o_start, o_end),
            "",
            (o_start, o_end),
        )
    if terms.counts_only_critical_services and not outage.service_critical:
        return (
            _excluded(
                outage,
                "non_critical_service",
                "the service is not critical; only critical services count",
            ),
            (o_start, o_end),
            "",
            (o_start, o_end),
        )
    if terms.significant_subset_pct is not None and outage.affected_accounts is not None:
        share = Fraction(outage.affected_accounts, max(outage.service_accounts, 1))
        if share * 100 < Fraction(terms.significant_subset_pct):
            return (
                _excluded(
                    outage,
                    "below_significant_subset",
                    f"affected {outage.affected_accounts} of {outage.service_accounts} customers of "
                    f"the service, below the significant subset of {terms.significant_subset_pct} %",
                ),
                (o_start, o_end),
                "",
                (o_start, o_end),
            )
    if terms.downtime_from_confirmation and terms.exclusions.get(outage.category) != REMOVED:
        counted_from = downtime_start(o_start, confirmed_at, from_confirmation=True)
        if counted_from is None:
            return (
                _excluded(
                    outage, "not_confirmed", "not yet confirmed; downtime starts at confirmation"
                ),
                (o_start, o_end),
                "",
                (o_start, o_end),
            )
        if counted_from >= o_end:
            return (
                _excluded(outage, "before_confirmation", "ended before it was confirmed"),
                (o_start, o_end),
                "",
                (o_start, o_end),
            )
        if counted_from > o_start:
            local = counted_from.astimezone(ZoneInfo(terms.zone))
            note = f"counted from confirmation at {local:%Y-%m-%d %H:%M %Z}"
            o_start = counted_from
    clipped = (max(o_start, start), min(o_end, end))
    if clipped[1] <= clipped[0]:
        inside_month = o_start < month_end and o_end > month_start
        if inside_month:
            return (
                _excluded(
                    outage, "outside_contract_period", "outside the contract's active period"
                ),
                clipped,
                "",
                (o_start, o_end),
            )
        return (
            _excluded(outage, "outside_month", "outside the month"),
            clipped,
            "",
            (o_start, o_end),
        )
    if (clipped[0], clipped[1]) != (o_start, o_end) and not note:
        note = CLIPPED
    return None, clipped, note, (o_start, o_end)
