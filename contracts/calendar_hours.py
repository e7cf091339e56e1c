"""Weekly opening hours and time zones as a calendar definition gives them: parsed and
validated once, when a calendar is built or saved. Pure Python, like ``contracts.calendars``
(which re-exports the public names)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DAY_SECONDS",
    "WEEKDAYS",
    "CalendarError",
    "TimeLike",
    "WeeklyHours",
    "clock_text",
    "load_zone",
    "parse_hours",
    "validate_time_zone",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SECONDS = 86_400

# Seven tuples (Monday first) of sorted, disjoint (start, end) seconds after local midnight.
WeeklyHours = tuple[tuple[tuple[int, int], ...], ...]
TimeLike = str | time | int


class CalendarError(ValueError):
    """A calendar definition that cannot be used; the message names the problem."""


def validate_time_zone(name: str) -> None:
    """Raise ``CalendarError`` unless ``name`` is an IANA zone that zoneinfo can load."""
    load_zone(name)


def load_zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise CalendarError("time zone is missing: give an IANA name such as 'America/Chicago'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarError(f"unknown time zone {name!r}") from None


def _parse_time(value: object, day: str) -> int:
    """Seconds after local midnight; "24:00" gives 86400."""
    if isinstance(value, str):
        # "HH:MM" or "HH:MM:SS", sliced rather than split: this runs for every interval
        # of every calendar built.
        size = len(value)
        if (size == 5 or (size == 8 and value[5] == ":")) and value[2] == ":":
            hh, mm, ss = value[:2], value[3:5], value[6:] or "00"
            if hh.isdigit() and mm.isdigit() and ss.isdigit():
                return _seconds(int(hh), int(mm), int(ss), value, day)
        raise CalendarError(f"malformed time {value!r} on {day}: expected HH:MM or HH:MM:SS")
    if isinstance(value, time):
        if value.tzinfo is not None or value.microsecond:
            raise CalendarError(f"malformed time {value!r} on {day}: use a naive whole-second time")
        return value.hour * 3600 + value.minute * 60 + value.second
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= DAY_SECONDS:
            return value  # whole seconds after midnight, as stored
        raise CalendarError(f"malformed time {value!r} on {day}: out of range")
    raise CalendarError(f"malformed time {value!r} on {day}: expected HH:MM or HH:MM:SS")


def _seconds(h: int, m: int, s: int, value: str, day: str) -> int:
    if h == 24 and m == 0 and s == 0:
        return DAY_SECONDS
    if h > 23 or m > 59 or s > 59:
        raise CalendarError(f"malformed time {value!r} on {day}: out of range")
    return h * 3600 + m * 60 + s


def clock_text(seconds: int) -> str:
    """Seconds after midnight as "HH:MM", or "HH:MM:SS" when the seconds are not zero."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _weekday_index(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key  # the database stores weekdays as 0 (Monday) .. 6
    if isinstance(key, str) and key.strip().lower() in WEEKDAYS:
        return WEEKDAYS.index(key.strip().lower())
    raise CalendarError(f"unknown weekday {key!r}: use one of {', '.join(WEEKDAYS)}")


def parse_hours(hours: Mapping[str | int, Iterable[tuple[TimeLike, TimeLike]]]) -> WeeklyHours:
    """Validate and normalise weekly opening hours.

    ``hours`` maps "mon".."sun" (or 0..6) to (start, end) pairs of "HH:MM",
    "HH:MM:SS", ``datetime.time`` or whole seconds after midnight (an int up to
    86400, as a stored calendar has them); missing days are closed. Touching
    intervals are merged. Raises ``CalendarError`` naming the problem.
    """
    if not isinstance(hours, Mapping):
        raise CalendarError("opening hours must be a mapping of weekday to intervals")
    week: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    for key, intervals in hours.items():
        index = _weekday_index(key)
        day = WEEKDAYS[index]
        if week[index]:
            raise CalendarError(f"weekday {day} is given twice")
        merged = week[index]
        previous = None
        for start, end in sorted(_interval(pair, day) for pair in intervals or ()):
            if previous is not None and start < previous[1]:
                raise CalendarError(
                    f"overlapping intervals on {day}: {clock_text(previous[0])}-{clock_text(previous[1])} "
                    f"and {clock_text(start)}-{clock_text(end)}"
                )
            if merged and merged[-1][1] == start:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
            previous = (start, end)
    if not any(week):
        raise CalendarError("calendar has no opening hours")
    return tuple(tuple(day) for day in week)


def _interval(pair: object, day: str) -> tuple[int, int]:
    if isinstance(pair, str) or len(pair) != 2:
        raise CalendarError(f"interval {pair!r} on {day} must be a (start, end) pair")
    start, end = _parse_time(pair[0], day), _parse_time(pair[1], day)
    if end <= start:
        raise CalendarError(
            f"reversed interval {clock_text(start)}-{clock_text(end)} on {day}: end must be after "
            "start (split an overnight shift over two days)"
        )
    return start, end
