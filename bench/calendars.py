"""Business time over 31 days: our calendar against businesstimedelta and pandas, cold and warm.

Run from the project root: ``python bench/calendars.py [--rounds N]``. Writes
``bench/results/calendars.json``; exits non-zero if a peer disagrees with us on the
calendar every peer can express.

The calendar: Monday to Friday 09:00-17:00 America/Chicago, closed on US federal
holidays (``holidays.country_holidays("US")`` for 2025-2029, observed days included).
The operation: business time from a random whole-second instant in 2026-2027 to 31 days
later (elapsed / difference).

Each engine gets its fastest set-up, from the same precomputed holiday dates:
- ours: ``contracts.calendar_engines.engine_for`` on a ``CalendarDefinition`` (the
  stored form: minutes, the zone's name, the holidays as a frozenset of dates), which is
  what ``business_calendar_for`` does once it has read the rows. Cold: the process cache
  is cleared before every call, so each call builds the engine from the definition and
  then computes with nothing cached. Warm: the cached engine, dates already computed
  (each call still compares the definition, as a request does).
- businesstimedelta: ``Rules([WorkDayRule(...), HolidayRule(frozenset of dates)])`` with
  a pytz zone. Its ``HolidayRule.next_holiday`` tests ``date in holidays`` for one date
  after another, so a set is its fastest holiday form: a ``holidays.HolidayBase`` (its
  README's example) or a list costs about 30 % more; a frozenset of working
  days gains nothing over the documented list. Cold: rules built per call; warm: once.
- pandas: ``CustomBusinessHour(start, end, weekmask, holidays=datetime64[D] array)``
  (the cheapest holiday form to build from). pandas has no business-time difference
  for it (an offset only moves instants; ``date_range(a, b, freq=offset)`` counts whole
  business hours, in time proportional to the hours), so the fastest exact method is the
  offset's own ``numpy.busdaycalendar`` (``calendar``): ``busday_count`` for the whole
  days between the two local dates and ``is_busday`` plus the offset's opening hours to
  clip the first and last day, on local wall times. Cold: the offset built per call.

Timing: CPU time (``time.process_time``) per call, in ``--rounds`` rounds; each round
times every peer on the same 40 cases, in an order that rotates between rounds, fast
peers repeated to fill at least ~10 ms. Figures are medians over rounds; each ratio is
the median of the per-round ratios (peers measured side by side, so a load change on the
shared cores moves both). Wall time and the load average are recorded beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import holidays  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytz  # noqa: E402
from businesstimedelta import HolidayRule, Rules, WorkDayRule  # noqa: E402

from contracts.calendar_engines import (  # noqa: E402
    CalendarDefinition,
    build_engine,
    clear_engines,
    engine_for,
    public_holidays,
)

ZONE = "America/Chicago"
OPEN, CLOSE = 9, 17
SPAN = timedelta(days=31)
CASES, PER_ROUND, SEED = 200, 40, 20260101
TARGETS = {"cold": 25.0, "warm": 200.0}
RESULTS = ROOT / "bench" / "results" / "calendars.json"

US_HOLIDAYS = frozenset(holidays.country_holidays("US", years=range(2025, 2030)))
US_HOLIDAYS_NP = np.array(sorted(US_HOLIDAYS), dtype="datetime64[D]")
INTERVALS = tuple((weekday, OPEN * 60, CLOSE * 60) for weekday in range(5))
DEFINITION = CalendarDefinition(ZONE, INTERVALS, custom_holidays=US_HOLIDAYS)
# The catalog's form: the country's holidays, expanded by the engine year by year.
STORED = CalendarDefinition(ZONE, INTERVALS, holiday_country="US")


# --- the three engines ---------------------------------------------------------------------


def ours_cold(start: datetime) -> timedelta:
    clear_engines()
    return engine_for("bench", DEFINITION).elapsed(start, start + SPAN)


def ours_warm(start: datetime) -> timedelta:
    return engine_for("bench", DEFINITION).elapsed(start, start + SPAN)


def ours_stored_cold(start: datetime) -> timedelta:
    clear_engines()
    return engine_for("bench-stored", STORED).elapsed(start, start + SPAN)


def ours_stored_coldest(start: datetime) -> timedelta:
    public_holidays.cache_clear()  # the holidays package expands each year again
    return ours_stored_cold(start)


def btd_rules(
    zone: str = ZONE, hours: tuple = ((OPEN, CLOSE, (0, 1, 2, 3, 4)),), closed=US_HOLIDAYS
) -> Rules:
    tz = pytz.timezone(zone)
    days = [
        WorkDayRule(start_time=clock(o), end_time=clock(c), working_days=list(wd), tz=tz)
        for o, c, wd in hours
    ]
    return Rules([*days, HolidayRule(closed, tz=tz)])


WARM_RULES = btd_rules()


def btd_cold(start: datetime) -> timedelta:
    return btd_rules().difference(start, start + SPAN).timedelta


def btd_warm(start: datetime) -> timedelta:
    return WARM_RULES.difference(start, start + SPAN).timedelta


def pandas_offset() -> pd.offsets.CustomBusinessHour:
    return pd.offsets.CustomBusinessHour(
        start=f"{OPEN:02d}:00",
        end=f"{CLOSE:02d}:00",
        weekmask="Mon Tue Wed Thu Fri",
        holidays=US_HOLIDAYS_NP,
    )


LOCAL = ZoneInfo(ZONE)


def pandas_elapsed(offset: pd.offsets.CustomBusinessHour, a: datetime, b: datetime) -> timedelta:
    """Business time in ``[a, b)`` from the offset's hours and its numpy business-day calendar
    (local wall times: exact for hours that no DST change crosses, as here)."""
    calendar = offset.calendar
    (opening,), (closing,) = offset.start, offset.end
    opens, closes = (
        opening.hour * 3600 + opening.minute * 60,
        closing.hour * 3600 + closing.minute * 60,
    )
    local_a, local_b = a.astimezone(LOCAL), b.astimezone(LOCAL)
    day_a, day_b = np.datetime64(local_a.date()), np.datetime64(local_b.date())

    def into_day(moment: datetime) -> int:
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
        return min(max(seconds, opens), closes) - opens

    if day_a == day_b:
        open_day = np.is_busday(day_a, busdaycal=calendar)
        return timedelta(seconds=into_day(local_b) - into_day(local_a) if open_day else 0)
    total = (closes - opens) * int(np.busday_count(day_a + 1, day_b, busdaycal=calendar))
    if np.is_busday(day_a, busdaycal=calendar):
        total += closes - opens - into_day(local_a)
    if np.is_busday(day_b, busdaycal=calendar):
        total += into_day(local_b)
    return timedelta(seconds=total)


WARM_OFFSET = pandas_offset()


def pandas_cold(start: datetime) -> timedelta:
    return pandas_elapsed(pandas_offset(), start, start + SPAN)


def pandas_warm(start: datetime) -> timedelta:
    return pandas_elapsed(WARM_OFFSET, start, start + SPAN)


# (function, calls of each case per measurement: enough for ~10 ms)
PEERS: dict[str, dict[str, tuple[Callable[[datetime], timedelta], int]]] = {
    "cold": {
        "ours": (ours_cold, 8),
        "businesstimedelta": (btd_cold, 1),
        "pandas": (pandas_cold, 2),
    },
    "warm": {
        "ours": (ours_warm, 60),
        "businesstimedelta": (btd_warm, 1),
        "pandas": (pandas_warm, 30),
    },
}
EXTRA = {  # our cold path from the catalog's stored form, outside the targets
    "ours_stored_country_us_years_cached": (ours_stored_cold, 8),
    "ours_stored_country_us_nothing_cached": (ours_stored_coldest, 1),
}


# --- agreement -------------------------------------------------------------------------------


def random_instant(rng: random.Random) -> datetime:
    # Whole seconds: businesstimedelta's difference() drops microseconds.
    first = datetime(2026, 1, 1, tzinfo=UTC)
    return first + timedelta(seconds=rng.randrange(2 * 365 * 86400))


def agreement() -> dict[str, object]:
    rng = random.Random(SEED)
    pairs = []
    for _ in range(CASES):
        a = random_instant(rng)
        pairs.append((a, a + timedelta(seconds=rng.randrange(40 * 86400))))
    ours = build_engine(DEFINITION)
    btd_agree = pandas_agree = 0
    for a, b in pairs:
        mine = ours.elapsed(a, b)
        btd_agree += WARM_RULES.difference(a, b).timedelta == mine
        pandas_agree += pandas_elapsed(WARM_OFFSET, a, b) == mine
    # A calendar only businesstimedelta can express besides us: other hours on other days.
    london_hours = ((8, 18, (0, 1, 2, 3)), (8, 14, (4,)), (10, 14, (5,)))
    gb = frozenset(holidays.country_holidays("GB", years=range(2025, 2030)))
    london = CalendarDefinition(
        "Europe/London",
        tuple((d, o * 60, c * 60) for o, c, days in london_hours for d in days),
        custom_holidays=gb,
    )
    ours_london, their_london = build_engine(london), btd_rules("Europe/London", london_hours, gb)
    london_agree = sum(
        their_london.difference(a, b).timedelta == ours_london.elapsed(a, b) for a, b in pairs
    )
    return {
        "cases": CASES,
        "seed": SEED,
        "agree": min(btd_agree, pandas_agree),
        "businesstimedelta_agree": btd_agree,
        "pandas_agree": pandas_agree,
        "calendar": f"Mon-Fri {OPEN:02d}:00-{CLOSE:02d}:00 {ZONE}, US federal holidays "
        "(every peer can express it)",
        "pairs": "a random whole second in 2026-2027, b up to 40 days later",
        "per_weekday_hours": {
            "calendar": "Europe/London Mon-Thu 08:00-18:00, Fri 08:00-14:00, Sat 10:00-14:00, "
            "GB holidays",
            "cases": CASES,
            "businesstimedelta_agree": london_agree,
            "pandas": "cannot express it",
        },
        "cannot_express": {
            "businesstimedelta": [
                "round-the-clock days: rules 00:00-12:00 and 12:00-00:00 on every day count "
                "3 days 12 hours in a 7-day week",
                "opening hours inside a DST gap: pytz localize(is_dst=False) reads 02:30 on the "
                "spring-forward day as 03:30 daylight time; we open at the transition (03:00)",
                "microseconds (difference() drops them)",
            ],
            "pandas": [
                "different hours on different weekdays (one set of hours for every business day)",
                "time zones and DST: wall-clock arithmetic, so hours a DST change crosses count "
                "wall time, not real time",
                "round-the-clock days: end '24:00' is refused, and '00:00'-'00:00' as hours "
                "that touch",
            ],
        },
    }


# --- timing ------------------------------------------------------------------------------------


def per_call_us(fn: Callable[[datetime], timedelta], cases: list[datetime], repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        for case in cases:
            fn(case)
    return (time.process_time() - started) / (repeat * len(cases)) * 1e6


def measure(rounds: int, starts: list[datetime]) -> dict[str, dict[str, list[float]]]:
    samples: dict[str, dict[str, list[float]]] = {
        mode: {peer: [] for peer in peers} for mode, peers in PEERS.items()
    }
    samples["extra"] = {name: [] for name in EXTRA}
    for round_no in range(rounds):
        first = round_no * PER_ROUND % CASES
        cases = (starts + starts)[first : first + PER_ROUND]
        for mode, peers in PEERS.items():
            names = list(peers)
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                fn, repeat = peers[name]
                for case in cases:  # untimed: warm means the cases' dates are cached
                    fn(case)
                samples[mode][name].append(per_call_us(fn, cases, repeat))
        for name, (fn, repeat) in EXTRA.items():
            samples["extra"][name].append(
                per_call_us(fn, cases[: 10 if repeat == 1 else None], repeat)
            )
    return samples


def summary(samples: dict[str, list[float]], target: float) -> dict[str, object]:
    ours = samples["ours"]
    result: dict[str, object] = {
        f"{peer}_us": round(statistics.median(v), 2) for peer, v in samples.items()
    }
    for peer in ("businesstimedelta", "pandas"):
        ratios = [theirs / mine for theirs, mine in zip(samples[peer], ours, strict=True)]
        result[f"ratio_vs_{peer}"] = round(statistics.median(ratios), 1)
        result[f"ratio_vs_{peer}_range"] = [round(min(ratios), 1), round(max(ratios), 1)]
    result["target_ratio_vs_businesstimedelta"] = target
    result["pass"] = result["ratio_vs_businesstimedelta"] >= target
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    load_before, cpu_before, wall_before = os.getloadavg(), time.process_time(), time.perf_counter()

    rng = random.Random(SEED + 1)
    starts = [random_instant(rng) for _ in range(CASES)]
    for year in range(2025, 2030):
        public_holidays("US", "", year)  # the catalog form's years, outside the cold timings
    timed_agree = sum(ours_cold(s) == btd_warm(s) == pandas_warm(s) for s in starts)
    agree = agreement()
    samples = measure(args.rounds, starts)

    report = {
        "benchmark": "business time over 31 days from a random instant in 2026-2027",
        "calendar": agree["calendar"],
        "cold": summary(samples["cold"], TARGETS["cold"]),
        "warm": summary(samples["warm"], TARGETS["warm"]),
        "ours_cold_from_the_stored_catalog_form_us": {
            name.removeprefix("ours_stored_"): round(statistics.median(v), 2)
            for name, v in samples["extra"].items()
        },
        "agreement": agree | {"timed_cases_agree": timed_agree, "timed_cases": CASES},
        "setups": {
            "ours": "engine_for(key, CalendarDefinition(zone, (weekday, 540, 1020) x5, "
            "custom_holidays=frozenset of dates)); cold: clear_engines() before each call",
            "businesstimedelta": "Rules([WorkDayRule(time(9), time(17), [0..4], tz=pytz zone), "
            "HolidayRule(frozenset of dates, tz=pytz zone)]).difference(a, b)",
            "pandas": "CustomBusinessHour(start='09:00', end='17:00', weekmask='Mon Tue Wed Thu "
            "Fri', holidays=datetime64[D] array); elapsed from its busdaycalendar "
            "(busday_count, is_busday) and its opening hours on local wall times",
        },
        "method": f"CPU µs per call (time.process_time), median of {args.rounds} rounds of "
        f"{PER_ROUND} cases each, peers interleaved in rotating order; ratios are medians of "
        "per-round ratios",
        "cpu_seconds": round(time.process_time() - cpu_before, 2),
        "wall_seconds": round(time.perf_counter() - wall_before, 2),
        "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in ("businesstimedelta", "pandas", "numpy", "holidays")},
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    print(f"{report['calendar']}; {report['method']}\n")
    print(
        f"{'':6}{'ours µs':>10}{'btd µs':>10}{'pandas µs':>11}{'vs btd':>9}{'vs pandas':>11}  target"
    )
    for mode in ("cold", "warm"):
        r = report[mode]
        verdict = "PASS" if r["pass"] else "FAIL"
        print(
            f"{mode:6}{r['ours_us']:>10.2f}{r['businesstimedelta_us']:>10.1f}{r['pandas_us']:>11.2f}"
            f"{r['ratio_vs_businesstimedelta']:>8.1f}x{r['ratio_vs_pandas']:>10.1f}x"
            f"  {TARGETS[mode]:.0f}x {verdict}"
        )
    print(
        f"\nours cold from the catalog form: {report['ours_cold_from_the_stored_catalog_form_us']}"
    )
    print(
        f"agreement: businesstimedelta {agree['businesstimedelta_agree']}/{CASES}, pandas "
        f"{agree['pandas_agree']}/{CASES}, timed cases {timed_agree}/{CASES}; per-weekday hours "
        f"(businesstimedelta) {agree['per_weekday_hours']['businesstimedelta_agree']}/{CASES}"
    )
    print(
        f"cpu {report['cpu_seconds']} s, wall {report['wall_seconds']} s, load {report['load_average']}"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if agree["agree"] == CASES and timed_agree == CASES else 1


if __name__ == "__main__":
    sys.exit(main())
