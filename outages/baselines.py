"""A process's baselines: a policy's view of a service's shared month, kept for reuse.

A ``Baseline`` (``outages.availability.prepare``) is what every contract of a policy and
a service shares over the same active days: the screened outages of every customer, the
sweep, the removed time, the business seconds of the measurement calendar. It is pure
computation over the stored facts (``outages.shared_facts``), so each process computes it
once per (facts version, terms, active days) and every later contract of that policy and
service — a monthly run's next task, the availability page — only adds its own scoped
outages (``outages.incremental.extend``). A worker on another machine recomputes it from
the same stored facts; a new facts version is a new key, so nothing stale is ever used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from contracts.models import DowntimeCategory, SLAPolicy
from contracts.selectors import business_calendar_for
from outages.availability import Availability, Baseline, Memo, OutageFact, Terms, prepare
from outages.incremental import extend, restrict
from outages.shared_facts import ServiceFacts, month_window

LABELS = dict(DowntimeCategory.choices)
Days = tuple[date | None, date | None]  # active days inside the month; None: its edge

_TERMS: dict[tuple, Terms] = {}
_BASES: dict[tuple, Baseline] = {}
_MEMOS: dict[tuple, Memo] = {}
_SIZE = 1_024  # entries of each; cleared whole when full (a run meets a few dozen)
_MEMO_ANSWERS = 100_000


def policy_terms(policy: SLAPolicy) -> Terms:
    """The engine's terms of a policy (its exclusions and measurement calendar loaded or
    prefetched). The same terms give the same object, so the caches and a run's ``Memo``
    (keyed by identity) recognise them."""
    calendar = policy.measurement_calendar
    engine = business_calendar_for(calendar)  # one object per calendar definition
    exclusions = tuple(sorted((e.category, e.treatment) for e in policy.exclusions.all()))
    key = (
        policy.pk,
        calendar.time_zone,
        engine,
        policy.denominator_basis,
        policy.downtime_starts_at,
        exclusions,
        policy.significant_subset_pct,
        policy.counts_only_critical_services,
    )
    terms = _TERMS.get(key)
    if terms is None:
        terms = Terms(
            zone=calendar.time_zone,
            measurement=engine,
            denominator_basis=policy.denominator_basis,
            downtime_from_confirmation=policy.downtime_starts_at
            == SLAPolicy.DowntimeStart.CONFIRMATION,
            exclusions=dict(exclusions),
            significant_subset_pct=policy.significant_subset_pct,
            counts_only_critical_services=policy.counts_only_critical_services,
            category_labels=LABELS,
        )
        _TERMS[_room(_TERMS, key)] = terms
    return terms


def _room(cache: dict, key: tuple) -> tuple:
    if len(cache) >= _SIZE:
        cache.clear()
    return key


def _now_key(facts: ServiceFacts, now: datetime | None) -> datetime | None:
    """``now`` as far as it changes the figures: not at all once the month has ended in
    every zone and none of its outages is ongoing (then it measures as the month's end)."""
    if now is None or (not facts.ongoing and now >= month_window(facts.month).end):
        return None
    return now


def baseline(terms: Terms, facts: ServiceFacts, days: Days, now: datetime | None) -> Baseline:
    """The shared outages' baseline of a service's month over a contract's active days."""
    now = _now_key(facts, now)
    key = (facts.key, terms, days, now)
    found = _BASES.get(key)
    if found is None:
        month = facts.month
        whole_key = (facts.key, terms, (month, None), now)
        whole = _BASES.get(whole_key)
        memo = memo_for(terms, facts, now)
        if whole is None:
            whole = prepare(terms, month=month, outages=facts.shared, now=now, memo=memo)
            _BASES[_room(_BASES, whole_key)] = whole
        found = whole if key == whole_key else restrict(whole, *days, memo)
        _BASES[_room(_BASES, key)] = found
    return found


def memo_for(terms: Terms, facts: ServiceFacts, now: datetime | None) -> Memo:
    """The screening answers shared by the contracts of a policy and a service's month."""
    key = (facts.key, terms, _now_key(facts, now))
    memo = _MEMOS.get(key)
    # Contracts' own outages add answers no other contract asks again: start afresh
    # rather than let a long-lived process's memo grow without end.
    if memo is None or len(memo.screened) + len(memo.not_counted) > _MEMO_ANSWERS:
        memo = _MEMOS[_room(_MEMOS, key)] = Memo()
    return memo


def with_own(
    base: Baseline,
    terms: Terms,
    facts: ServiceFacts,
    own: Sequence[OutageFact],
    now: datetime | None,
) -> Availability:
    """The baseline plus a contract's own (scoped) outages."""
    if not own:
        return base.result
    return extend(base, own, memo_for(terms, facts, now))


def forget() -> None:
    """Drop this process's baselines (tests; a benchmark's replaced worker)."""
    _TERMS.clear()
    _BASES.clear()
    _MEMOS.clear()
