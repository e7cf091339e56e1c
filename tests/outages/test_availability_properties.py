"""Properties of the availability engine, on random outages around DST months."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from outages.availability import Memo, compute, prepare
from outages.incremental import extend, restrict
from tests.support.availability_terms import MULTIPLIER, TIERED, outage

MONTHS = [date(2026, 3, 1), date(2026, 6, 1), date(2026, 11, 1)]
CATEGORIES = [
    "internal",
    "internal",
    "third_party",
    "performance_degradation",
    "scheduled_maintenance",
    "customer_authorized",
    "beta_feature",
]
REMOVED = {"scheduled_maintenance", "customer_authorized"}  # tiered: out of the denominator


@st.composite
def outages(draw, month: date, removable: bool = True):
    base = datetime(month.year, month.month, 1, tzinfo=UTC) - timedelta(days=2)
    start = base + timedelta(minutes=draw(st.integers(0, 34 * 24 * 60)))
    length = timedelta(minutes=draw(st.integers(1, 3 * 24 * 60)))
    ongoing = draw(st.booleans()) and draw(st.booleans())
    confirm_after = timedelta(minutes=draw(st.integers(0, 240)))
    categories = CATEGORIES if removable else [c for c in CATEGORIES if c not in REMOVED]
    scoped = draw(st.booleans())
    return outage(
        start,
        None if ongoing else start + length,
        draw(st.sampled_from(categories)),
        confirmed=start + confirm_after,
        affected=draw(st.integers(1, 20)) if scoped else None,
        of=20,
        critical=draw(st.booleans()) or draw(st.booleans()),
    )


def month_and_outages(removable: bool = True, max_size: int = 8):
    return st.sampled_from(MONTHS).flatmap(
        lambda m: st.tuples(st.just(m), st.lists(outages(m, removable), max_size=max_size))
    )


TERMS = st.sampled_from([TIERED, MULTIPLIER])
FAST = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "120")), deadline=None)


@FAST
@given(TERMS, month_and_outages(removable=False), st.data())
def test_adding_an_outage_never_raises_availability(terms, month_facts, data):
    # Outages the policy removes from the denominator are left out on purpose: removing
    # time that overlaps downtime raises the ratio, exactly as Required Monthly
    # Availability intends (the tiered SLA), so they are not "downtime" here.
    month, facts = month_facts
    extra = data.draw(outages(month, removable=False))
    before = compute(terms, month=month, outages=facts)
    after = compute(terms, month=month, outages=[*facts, extra])
    assert after.availability <= before.availability
    assert after.downtime_seconds >= before.downtime_seconds


@FAST
@given(TERMS, month_and_outages(), st.randoms())
def test_the_result_does_not_depend_on_the_order_of_outages(terms, month_facts, rng):
    month, facts = month_facts
    shuffled = list(facts)
    rng.shuffle(shuffled)
    assert compute(terms, month=month, outages=facts) == compute(
        terms, month=month, outages=shuffled
    )


@FAST
@given(TERMS, month_and_outages(max_size=12))
def test_a_months_downtime_is_the_sum_of_its_days(terms, month_facts):
    month, facts = month_facts
    result = compute(terms, month=month, outages=facts)
    assert sum(day.downtime_seconds for day in result.days) == result.downtime_seconds
    assert sum(v.seconds for v in result.verdicts) == result.downtime_seconds
    assert 0 <= result.availability <= 1
    assert len(result.days) == (
        (date(month.year + month.month // 12, month.month % 12 + 1, 1) - month).days
    )


@FAST
@given(TERMS, month_and_outages(), month_and_outages())
def test_a_shared_memo_never_changes_a_result(terms, first, second):
    # A bulk run passes one memo to thousands of calls; answers must not leak between them.
    memo = Memo()
    for month, facts in (first, second, first):
        for active_from in (None, month.replace(day=10)):
            alone = compute(terms, month=month, outages=facts, active_from=active_from)
            shared = compute(terms, month=month, outages=facts, active_from=active_from, memo=memo)
            assert shared == alone


@FAST
@given(TERMS, month_and_outages(max_size=10), st.data())
def test_extending_a_baseline_equals_computing_everything(terms, month_facts, data):
    # A bulk run computes a policy's shared outages once and adds each account's own:
    # the figures, days and verdicts must be exactly those of one full computation.
    month, shared = month_facts
    own = data.draw(st.lists(outages(month), max_size=4))
    active_from = data.draw(st.sampled_from([None, month.replace(day=10)]))
    memo = Memo()
    base = prepare(terms, month=month, outages=shared, active_from=active_from, memo=memo)
    for _ in range(2):  # a memo shared between accounts changes nothing either
        assert extend(base, own, memo) == compute(
            terms, month=month, outages=[*shared, *own], active_from=active_from
        )


@FAST
@given(TERMS, month_and_outages(max_size=10), st.data())
def test_a_months_baseline_restricted_to_active_days_equals_computing_them(
    terms, month_facts, data
):
    # A bulk run computes the whole month once per policy and service and derives each
    # contract's active days from it; then adds the account's own outages on top.
    month, shared = month_facts
    own = data.draw(st.lists(outages(month), max_size=3))
    days = (date(month.year + month.month // 12, month.month % 12 + 1, 1) - month).days
    first = data.draw(st.one_of(st.none(), st.integers(-3, days + 2)))
    last = data.draw(st.one_of(st.none(), st.integers(-3, days + 2)))
    active_from = None if first is None else month + timedelta(days=first)
    active_until = None if last is None else month + timedelta(days=last)
    now = data.draw(
        st.one_of(
            st.none(),
            st.integers(0, 35 * 24 * 60).map(
                lambda m: datetime(month.year, month.month, 1, tzinfo=UTC) + timedelta(minutes=m)
            ),
        )
    )
    memo = Memo()
    whole_month = prepare(terms, month=month, outages=shared, now=now, memo=memo)
    part = restrict(whole_month, active_from, active_until, memo)
    window = dict(month=month, active_from=active_from, active_until=active_until, now=now)
    assert part.result == compute(terms, outages=shared, **window)
    assert extend(part, own, memo) == compute(terms, outages=[*shared, *own], **window)
