"""A bulk run's shortcuts through the availability engine, exact to ``compute``.

Thousands of accounts share a policy, a service and the month's outages of every
customer. ``prepare`` computes those once for the whole month; ``restrict`` derives a
contract's active days from it; ``extend`` adds an account's own (scoped) outages on
top. Each returns exactly what ``outages.availability.compute`` gives for the same
inputs (tests/outages/test_availability_properties.py checks it on random months).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

from outages.availability import (
    Baseline,
    build_baseline,
    measured_window,
    ordered_verdicts,
    ratio,
    reach_after,
    sweep_order,
)
from outages.facts import Availability, Day, OutageFact, Verdict
from outages.intervals import Interval, day_starts, seconds_per_day, union
from outages.screening import CLIPPED, screen_all, sweep_step


def restrict(
    base: Baseline, active_from: date | None, active_until: date | None, memo: dict | None = None
) -> Baseline:
    """``prepare`` for the same outages over a contract's active days, from a baseline of
    the whole month: what each outage is, and the time it adds, only change where it
    crosses the edges of the active days."""
    if base.args["active_from"] is not None or base.args["active_until"] is not None:
        raise ValueError("restrict() needs a baseline of the whole month")
    args = {**base.args, "active_from": active_from, "active_until": active_until}
    window = measured_window(base.terms, **args)
    if window == base.window:
        return base
    start, end = window[0], window[1]
    memo = {} if memo is None else memo
    excluded = list(base.excluded)
    removed = []
    for clipped, verdict in base.removed_parts:
        part = (max(clipped[0], start), min(clipped[1], end))
        if part[1] > part[0]:
            removed.append((part, verdict))
        else:
            excluded.append(_outside(verdict, memo))
    candidates, reuse, keys = [], [], []
    for candidate, step, key in zip(base.candidates, base.steps, base.keys, strict=True):
        outage, clipped, note, span = candidate
        if clipped[0] >= start and clipped[1] <= end:  # wholly inside: as in the month
            candidates.append(candidate)
            reuse.append(step if step[1] else None)
            keys.append(key)  # the order does not depend on the period
            continue
        part = (max(clipped[0], start), min(clipped[1], end))
        if part[1] <= part[0]:
            excluded.append(_outside(step[2], memo))
            continue
        candidates.append((outage, part, note or (CLIPPED if part != span else ""), span))
        reuse.append(None)
        keys.append(key)
    # The period runs from a local midnight to a local midnight (or to ``now``, as the
    # month does): each day is wholly in it, with the month's downtime, or wholly out.
    starts = day_starts(base.result.month, ZoneInfo(base.terms.zone))
    days = [
        day.downtime_seconds if start <= starts[i] < end else 0
        for i, day in enumerate(base.result.days)
    ]
    return build_baseline(
        base.terms,
        base.outages,
        args,
        window,
        excluded,
        removed,
        candidates,
        memo,
        reuse=reuse,
        days=days,
        keys=keys,
    )


def _outside(verdict: Verdict, memo: dict) -> Verdict:
    key = ("outside the period", verdict.outage_id)
    if key not in memo:
        memo[key] = Verdict(
            verdict.outage_id,
            verdict.title,
            verdict.category,
            False,
            0,
            "outside the contract's active period",
            "outside_contract_period",
        )
    return memo[key]


def extend(base: Baseline, outages: Sequence[OutageFact], memo: dict | None = None) -> Availability:
    """What ``compute`` gives for the baseline's outages plus ``outages`` (an account's
    own), re-sweeping only the stretches the new outages change: after each new
    candidate until the sweep's reach is the baseline's again, and where time newly
    removed from the denominator meets a candidate."""
    if not outages:
        return base.result
    terms = base.terms
    memo = {} if memo is None else memo
    excluded, candidates, new_removed = screen_all(terms, outages, base.window, memo)
    if not candidates and not new_removed:
        return replace(base.result, verdicts=ordered_verdicts([*base.result.verdicts, *excluded]))

    removed = base.removed
    dirty: list[int] = []  # baseline candidates that meet newly removed time
    if new_removed:
        holes = union(part for part, _ in new_removed)
        removed = tuple(union([*base.removed, *holes]))
        dirty = [
            index
            for index, (_, (begin, end), _, _) in enumerate(base.candidates)
            if any(h_start < end and begin < h_end for h_start, h_end in holes)
        ]
    simple = base.meter.always_open and not removed
    candidates.sort(key=sweep_order)
    changed: dict[int, tuple[list[Interval], int, Verdict]] = {}
    added: list[tuple[list[Interval], int, Verdict]] = []
    sweep = (terms, removed, base.meter, simple, memo)
    index, current = 0, None
    for position in [*(bisect_left(base.keys, sweep_order(c)) for c in candidates), None]:
        stop = len(base.candidates) if position is None else position
        # The baseline's candidates before this new one: where the reach is the
        # baseline's again, they are as the baseline has them up to the next dirty one.
        while index < stop:
            if current == base.reach[index] and (not dirty or index != dirty[0]):
                following = dirty[0] if dirty and dirty[0] < stop else stop
                index, current = following, base.reach[following]
                continue
            if dirty and dirty[0] == index:
                dirty.pop(0)
            candidate = base.candidates[index]
            step = sweep_step(candidate, current, *sweep)
            if step != base.steps[index]:
                changed[index] = step
            current = reach_after(current, candidate)
            index += 1
        if position is not None:
            candidate = candidates[len(added)]
            added.append(sweep_step(candidate, current, *sweep))
            current = reach_after(current, candidate)

    result = base.result
    old = [i for index in changed for i in base.steps[index][0]]
    new = [i for step in (*changed.values(), *added) for i in step[0]]
    zone = ZoneInfo(terms.zone)
    days = list(result.days)
    minus = seconds_per_day(old, base.meter, result.month, zone)
    plus = seconds_per_day(new, base.meter, result.month, zone)
    for i, (lost, gained) in enumerate(zip(minus, plus, strict=True)):
        if lost or gained:
            days[i] = Day(days[i].day, days[i].downtime_seconds - lost + gained)
    downtime = (
        result.downtime_seconds
        - sum(base.steps[index][1] for index in changed)
        + sum(step[1] for step in (*changed.values(), *added))
    )
    verdicts = [step[2] for step in base.steps]
    for index, step in changed.items():
        verdicts[index] = step[2]
    removed_seconds = base.basis(removed) if new_removed else result.removed_seconds
    denominator = result.measured_seconds - removed_seconds
    return replace(
        result,
        removed_seconds=removed_seconds,
        denominator_seconds=max(denominator, 0),
        downtime_seconds=downtime,
        availability=ratio(denominator, downtime),
        days=tuple(days),
        verdicts=ordered_verdicts(
            [
                *base.excluded,
                *(verdict for _, verdict in (*base.removed_parts, *new_removed)),
                *excluded,
                *verdicts,
                *(step[2] for step in added),
            ]
        ),
    )
