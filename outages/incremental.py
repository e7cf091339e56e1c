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
from datetime import date, datetime
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
from outages.screening import (
    CLIPPED,
    Candidate,
    Memo,
    Removal,
    Step,
    screen_all,
    sweep_step,
)


def restrict(
    base: Baseline, active_from: date | None, active_until: date | None, memo: Memo | None = None
) -> Baseline:
    """``prepare`` for the same outages over a contract's active days, from a baseline of
    the whole month: what each outage is, and the time it adds, only change where it
    crosses the edges of the active days."""
    if base.period.active_from is not None or base.period.active_until is not None:
        raise ValueError("restrict() needs a baseline of the whole month")
    period = base.period._replace(active_from=active_from, active_until=active_until)
    window = measured_window(base.terms, period)
    if window == base.window:
        return base
    start, end = window.start, window.end
    memo = Memo() if memo is None else memo
    excluded = list(base.excluded)
    removed = []
    for clipped, verdict in base.removed_parts:
        begin, finish = max(clipped.start, start), min(clipped.end, end)
        if finish > begin:
            removed.append(Removal(Interval(begin, finish), verdict))
        else:
            excluded.append(_outside(verdict, memo))
    candidates: list[Candidate] = []
    reuse: list[Step | None] = []
    keys = []
    for candidate, step, key in zip(base.candidates, base.steps, base.keys, strict=True):
        clipped = candidate.clipped
        if clipped.start >= start and clipped.end <= end:  # wholly inside: as in the month
            candidates.append(candidate)
            reuse.append(step if step.seconds else None)
            keys.append(key)  # the order does not depend on the period
            continue
        begin, finish = max(clipped.start, start), min(clipped.end, end)
        if finish <= begin:
            excluded.append(_outside(step.verdict, memo))
            continue
        part = Interval(begin, finish)
        note = candidate.note or (CLIPPED if part != candidate.span else "")
        candidates.append(candidate._replace(clipped=part, note=note))
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
        period,
        window,
        excluded,
        removed,
        candidates,
        memo,
        reuse=reuse,
        days=days,
        keys=keys,
    )


def _outside(verdict: Verdict, memo: Memo) -> Verdict:
    found = memo.outside.get(verdict.outage_id)
    if found is None:
        found = memo.outside[verdict.outage_id] = Verdict(
            verdict.outage_id,
            verdict.title,
            verdict.category,
            False,
            0,
            "outside the contract's active period",
            "outside_contract_period",
        )
    return found


def extend(base: Baseline, outages: Sequence[OutageFact], memo: Memo | None = None) -> Availability:
    """What ``compute`` gives for the baseline's outages plus ``outages`` (an account's
    own), re-sweeping only the stretches the new outages change: after each new
    candidate until the sweep's reach is the baseline's again, and where time newly
    removed from the denominator meets a candidate."""
    if not outages:
        return base.result
    terms = base.terms
    memo = Memo() if memo is None else memo
    excluded, candidates, new_removed = screen_all(terms, outages, base.window, memo)
    if not candidates and not new_removed:
        return replace(base.result, verdicts=ordered_verdicts([*base.result.verdicts, *excluded]))

    removed = base.removed
    dirty: list[int] = []  # baseline candidates that meet newly removed time
    if new_removed:
        holes = union(part.clipped for part in new_removed)
        removed = tuple(union([*base.removed, *holes]))
        dirty = [
            index
            for index, (_, (begin, end), _, _) in enumerate(base.candidates)
            if any(h_start < end and begin < h_end for h_start, h_end in holes)
        ]
    simple = base.meter.always_open and not removed

    def step(candidate: Candidate, reach: datetime | None) -> Step:
        return sweep_step(candidate, reach, terms, removed, base.meter, simple, memo)

    candidates.sort(key=sweep_order)
    changed: dict[int, Step] = {}
    added: list[Step] = []
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
            redone = step(candidate, current)
            if redone != base.steps[index]:
                changed[index] = redone
            current = reach_after(current, candidate)
            index += 1
        if position is not None:
            candidate = candidates[len(added)]
            added.append(step(candidate, current))
            current = reach_after(current, candidate)

    result = base.result
    old = [i for index in changed for i in base.steps[index].fresh]
    new = [i for s in (*changed.values(), *added) for i in s.fresh]
    zone = ZoneInfo(terms.zone)
    days = list(result.days)
    minus = seconds_per_day(old, base.meter, result.month, zone)
    plus = seconds_per_day(new, base.meter, result.month, zone)
    for i, (lost, gained) in enumerate(zip(minus, plus, strict=True)):
        if lost or gained:
            days[i] = Day(days[i].day, days[i].downtime_seconds - lost + gained)
    downtime = (
        result.downtime_seconds
        - sum(base.steps[index].seconds for index in changed)
        + sum(s.seconds for s in (*changed.values(), *added))
    )
    verdicts = [s.verdict for s in base.steps]
    for index, s in changed.items():
        verdicts[index] = s.verdict
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
                *(part.verdict for part in (*base.removed_parts, *new_removed)),
                *excluded,
                *verdicts,
                *(s.verdict for s in added),
            ]
        ),
    )
