"""Benchmark contracts.calendars against the businesstimedelta package.

Run from the project root: ``python bench/calendars.py``. Both engines get the same
calendar (Mon-Fri 09:00-17:00 America/Chicago, US federal holidays) and the same
200 random start instants across 2026-2027 (fixed seed); every answer is compared
as a UTC instant or a timedelta before anything is timed. Writes
``bench/results/calendars.json``; exits non-zero only if the engines disagree.
"""

from __future__ import annotations

import json
import platform
import random
import statistics
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import holidays  # noqa: E402
import pytz  # noqa: E402
from businesstimedelta import BusinessTimeDelta, HolidayRule, Rules, WorkDayRule  # noqa: E402

from contracts.calendars import BusinessCalendar  # noqa: E402

ZONE = "America/Chicago"
CASES = 200
SEED = 20260101
TARGET = 25.0
REPEATS = 5
RESULTS = ROOT / "bench" / "results" / "calendars.json"

US_HOLIDAYS = holidays.country_holidays("US")


def our_calendar() -> BusinessCalendar:
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    return BusinessCalendar(
        tz=ZONE, hours={day: [("09:00", "17:00")] for day in weekdays}, holidays=US_HOLIDAYS
    )


def their_rules() -> Rules:
    zone = pytz.timezone(ZONE)
    workday = WorkDayRule(
        start_time=time(9), end_time=time(17), working_days=[0, 1, 2, 3, 4], tz=zone
    )
    return Rules([workday, HolidayRule(US_HOLIDAYS, tz=zone)])


def random_starts() -> list[datetime]:
    # Whole seconds: businesstimedelta's difference() drops microseconds.
    rng = random.Random(SEED)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    span = int((datetime(2028, 1, 1, tzinfo=UTC) - first).total_seconds())
    return [first + timedelta(seconds=rng.randrange(span)) for _ in range(CASES)]


def per_call_us(fn: Callable[[datetime], object], cases: list[datetime]) -> tuple[float, float]:
    """(best, median) microseconds per call over REPEATS timed passes of all cases."""

    def one_pass() -> None:
        for case in cases:
            fn(case)

    timer = timeit.Timer(one_pass)
    number, _ = timer.autorange()
    runs = [t / number / len(cases) * 1e6 for t in timer.repeat(REPEATS, number)]
    return min(runs), statistics.median(runs)


def main() -> int:
    cal, rules = our_calendar(), their_rules()
    two_days = cal.business_days(2)
    assert two_days == timedelta(hours=16), two_days
    month = timedelta(days=31)
    operations: dict[str, tuple[Callable, Callable, Callable]] = {
        "elapsed_31_days": (
            lambda s: cal.elapsed(s, s + month),
            lambda s: rules.difference(s, s + month).timedelta,
            lambda s: our_calendar().elapsed(s, s + month),
        ),
        "due_8_hours": (
            lambda s: cal.due(s, timedelta(hours=8)),
            lambda s: (s + BusinessTimeDelta(rules, hours=8)).astimezone(UTC),
            lambda s: our_calendar().due(s, timedelta(hours=8)),
        ),
        "due_2_business_days": (
            lambda s: cal.due(s, two_days),
            lambda s: (s + BusinessTimeDelta(rules, timedelta=two_days)).astimezone(UTC),
            lambda s: our_calendar().due(s, two_days),
        ),
    }
    starts = random_starts()
    for year in (2025, 2026, 2027, 2028):
        US_HOLIDAYS.get(f"{year}-01-01")  # expand the holiday years outside the timings

    report: dict[str, object] = {
        "python": platform.python_version(),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "calendar": f"Mon-Fri 09:00-17:00 {ZONE}, holidays.country_holidays('US')",
        "cases": CASES,
        "seed": SEED,
        "timing": f"µs per call; best and median of {REPEATS} timed passes over all cases "
        "(ours warm: per-date cache filled by an earlier pass; ours_cold: a new calendar "
        "for every call)",
        "operations": {},
    }
    failed = False
    print(f"{report['calendar']}, {CASES} random starts 2026-2027 (seed {SEED})\n")
    header = f"{'operation':<22}{'agree':>9}{'ours µs':>10}{'cold µs':>10}{'theirs µs':>11}"
    print(header + f"{'speedup':>10}  target {TARGET:.0f}x")
    for name, (ours, theirs, ours_cold) in operations.items():
        mismatches = [(s, ours(s), theirs(s)) for s in starts if ours(s) != theirs(s)]
        agree = CASES - len(mismatches)
        failed |= bool(mismatches)
        for s, mine, other in mismatches[:5]:
            print(f"  MISMATCH {name} start={s.isoformat()}: ours={mine} theirs={other}")
        our_best, our_median = per_call_us(ours, starts)
        cold_best, _ = per_call_us(ours_cold, starts)
        their_best, their_median = per_call_us(theirs, starts)
        speedup = their_best / our_best
        report["operations"][name] = {
            "ours_us": round(our_best, 3),
            "ours_median_us": round(our_median, 3),
            "ours_cold_us": round(cold_best, 3),
            "theirs_us": round(their_best, 3),
            "theirs_median_us": round(their_median, 3),
            "speedup": round(speedup, 1),
            "cold_speedup": round(their_best / cold_best, 1),
            "target": TARGET,
            "pass": speedup >= TARGET,
            "agreement": agree,
            "cases": CASES,
        }
        verdict = "PASS" if speedup >= TARGET else "FAIL"
        print(
            f"{name:<22}{agree:>5}/{CASES}{our_best:>10.2f}{cold_best:>10.2f}"
            f"{their_best:>11.2f}{speedup:>9.1f}x  {verdict}"
        )
    report["agreement_ok"] = not failed
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    if failed:
        print("engines disagree: see MISMATCH lines above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
